"""Requests the pipeline must recognise before it retrieves anything: a customer who explicitly
asks for a human is handed over at once, without a model call (German and English)."""

from __future__ import annotations

import re

_HUMAN_EN = (
    r"(human|person|people|agent|representative|rep|operator|someone|somebody|staff|employee"
    r"|advisor|adviser|colleague|supervisor|manager)"
)
_HUMAN_DE = (
    r"(mensch(en)?|menschliche[nm]?|person|mitarbeiter(in|innen)?|mitarbeitende[nm]?|berater(in)?"
    r"|kundenberater(in)?|agent(en)?|kollege[n]?|kollegin|jemand(em|en)?|sachbearbeiter(in)?|vorgesetzte[nm]?)"
)

_EXPLICIT = [
    # English: "talk to a human", "can I speak with an agent", "connect me to a person", "human please"
    rf"\b(talk|speak|chat|connect|transfer|put)\w*\b(\s+\w+){{0,4}}\s+(to|with)\s+(a|an|the|some|real|actual|live|your|\s)*{_HUMAN_EN}\b",
    rf"\b(real|actual|live)\s+{_HUMAN_EN}\b",
    rf"^\W*(a\s+)?{_HUMAN_EN}(\s+please)?\W*$",
    r"\b(want|need|like|get)\s+(a|an|to\s+talk\s+to\s+a)\s+(human|person|agent|representative)\b",
    r"\b(call\s+me\s+back|callback|call-back)\b",
    # German: "mit einem Menschen sprechen", "Mitarbeiter bitte", "verbinden Sie mich mit ..."
    rf"\bmit\s+(einem|einer|einen|dem|der|ihrem|ihrer|eurem|eurer|echten|richtigen|\s)*{_HUMAN_DE}\s+(\w+\s+){{0,3}}(sprechen|reden|telefonieren|chatten|schreiben|verbunden|verbinden)",
    rf"\b(verbinde|verbinden)\w*\s+(\w+\s+){{0,3}}mit\s+(\w+\s+){{0,2}}{_HUMAN_DE}\b",
    rf"\b(echte[nmr]?|richtige[nmr]?|lebende[nmr]?)\s+{_HUMAN_DE}\b",
    rf"^\W*(ein(en)?\s+)?{_HUMAN_DE}(\s+bitte)?\W*$",
    rf"\b(will|möchte|moechte|brauche|hätte\s+gern|haette\s+gern)\s+(gern\s+|gerne\s+|bitte\s+)?(einen|eine|mit\s+einem|mit\s+einer)\s+{_HUMAN_DE}\b",
    r"\b(rückruf|rueckruf|zurückrufen|zurueckrufen)\b",
]


def _compile(patterns: list[str]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def _found(patterns: list[re.Pattern[str]], text: str) -> bool:
    t = " ".join(text.split())
    return any(p.search(t) for p in patterns)


_EXPLICIT_RE = _compile(_EXPLICIT)


def wants_human(text: str) -> bool:
    """True for an explicit wish to reach a person ("Ich möchte mit einem Menschen sprechen",
    "talk to an agent"). A question *about* people ("Can a person under 18 sign a contract?")
    is not one."""
    return _found(_EXPLICIT_RE, text)


# Needs a look at the customer's own account: the knowledge base cannot answer it, a person can.
_POSSESSIVE = [
    r"\b(my|our)\s+(last\s+|latest\s+|current\s+|recent\s+)?(invoice|bill|refund|payment|contract|account|sim(\s+card)?|order|direct\s+debit|number)\b"
    r".{0,60}\b(wrong|incorrect|too\s+(much|high)|twice|double[d]?|missing|blocked|suspended|cancell?ed|not\s+(arrived|received|working)|disappeared)\b",
    r"\b(mein|meine|meinen|meinem|meiner)\s+(letzte[n]?\s+|aktuelle[n]?\s+)?(rechnung|erstattung|vertrag|konto|zahlung|bestellung|sim(-karte)?|lastschrift|gutschrift|rufnummer|anschluss)\w*\b"
    r".{0,60}\b(falsch|fehlerhaft|zu\s+hoch|doppelt|gesperrt|fehlt|verschwunden|nicht\s+angekommen|nicht\s+erhalten|storniert|gekündigt)\b",
]
_ACCOUNT = [
    r"\b(charged|billed|debited|overcharged)\s+(me|us)\b",
    r"\b(you|they)\s+(charged|billed|debited|overcharged)\b",
    r"\bwhere\s+is\s+my\s+(refund|order|package|parcel|money|sim|credit)\b",
    r"\bwhy\s+(was|is|has)\s+my\s+\w+(\s+\w+)?\s+(been\s+)?(blocked|suspended|cancell?ed|terminated|charged)\b",
    r"\bwo\s+bleibt\s+(denn\s+)?(mein|meine)\b",
    r"\bwarum\s+(wurde|ist|hat)\s+(mein|meine)\b.{0,60}\b(gesperrt|gekündigt|abgebucht|erhöht|storniert)\b",
    r"\b(zu\s+viel|doppelt|falsch)\s+(abgebucht|berechnet|belastet)\b",
    r"\bprüfen\s+sie\b.{0,40}\b(mein|meine|meinen)\b",
    r"\b(check|look\s+at)\s+my\s+(account|invoice|bill|contract)\b",
]
_ACCOUNT_RE = _compile(_ACCOUNT)
_POSSESSIVE_RE = _compile(_POSSESSIVE)
# "What happens if my SIM card is blocked?" asks the help center, not about one account
_HYPOTHETICAL = re.compile(r"\b(if|when|what\s+happens|wenn|falls|was\s+passiert)\b", re.IGNORECASE)

# Anger or exasperation: answering with another help article makes it worse.
_FRUSTRATION = [
    r"\b(ridiculous|unacceptable|useless|outrageous|disgraceful|pathetic|furious|scam|rip-?off)\b",
    r"\b(fed\s+up|sick\s+(and\s+tired\s+)?of|nobody\s+helps|no\s+one\s+helps|worst\s+(service|company))\b",
    r"\b(unverschämt\w*|frechheit|lächerlich|nutzlos|katastroph\w*|zumutung|betrug|abzocke|wütend|stinksauer)\b",
    r"\b(reicht\s+mir|nase\s+voll|niemand\s+hilft|keiner\s+hilft)\b",
    r"[!?]{3,}",
]
_FRUSTRATION_RE = _compile(_FRUSTRATION)


def needs_account(text: str) -> bool:
    """A request about the customer's own invoice, refund, contract or payment ("you charged me
    50 euros too much", "Wo bleibt meine Erstattung?"): only a person with account access can help."""
    if _found(_ACCOUNT_RE, text):
        return True
    return not _HYPOTHETICAL.search(text) and _found(_POSSESSIVE_RE, text)


def frustrated(text: str) -> bool:
    """Clear anger or exasperation in German or English."""
    return _found(_FRUSTRATION_RE, text)
