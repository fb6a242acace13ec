"""Requests the pipeline must recognise before it retrieves anything: a customer who asks for a
person, is angry, or needs someone with access to their account is handed over at once, without a
model call (German and English).

Two detectors, either one suffices: hand-written patterns (precise, explainable) and a logistic
regression per label on the question's embedding (``intents_model.json``, trained by
``scripts/train_intents.py`` on labelled messages), which catches the wordings no pattern lists.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .embeddings import embed_query

log = logging.getLogger(__name__)
LABELS = ("human", "frustrated", "account")
MODEL_PATH = Path(__file__).resolve().parent / "intents_model.json"

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
    r"^\W*(human|agent|operator|representative)\b\W",  # "HUMAN. My line is blocked"
    rf"\b{_HUMAN_EN}\s+(please|pls|plz|now)\b",
    r"\b(want|need|like|get)\s+(a|an|to\s+talk\s+to\s+a)\s+(human|person|agent|representative)\b",
    rf"\bget\s+me\s+(\w+\s+){{0,2}}{_HUMAN_EN}\b",
    rf"\bis\s+there\s+(a|an|any)\s+(\w+\s+)?{_HUMAN_EN}\b.{{0,30}}\b(talk|speak|chat|call)",
    rf"\b(can|could|would)\s+(someone|somebody|a\s+person|a\s+human|an\s+agent|one\s+of\s+your\s+\w+|{_HUMAN_EN})"
    r"(\s+\w+){0,4}\s+(call|ring|phone|contact|look\s+at|check)\b",
    r"\b(put|pass(ed)?)\s+(me\s+)?(through|on)\s+to\b",
    r"\blet\s+me\s+(talk|speak|chat)\s+(to|with)\b",
    r"\b(call\s+me\s+back|callback|call-back|escalate)\b",
    # German: "mit einem Menschen sprechen", "Mitarbeiter bitte", "verbinden Sie mich mit ..."
    rf"\bmit\s+(einem|einer|einen|dem|der|ihrem|ihrer|eurem|eurer|echten|richtigen|\s)*{_HUMAN_DE}\s+(\w+\s+){{0,8}}(sprechen|reden|telefonieren|chatten|schreiben|verbunden|verbinden)",
    rf"\b(verbinde|verbinden)\w*\s+(\w+\s+){{0,3}}mit\s+(\w+\s+){{0,2}}{_HUMAN_DE}\b",
    rf"\b{_HUMAN_DE}\b.{{0,40}}\b(weiterleiten|weitergeben|durchstellen)\b",
    rf"\b(echte[nmr]?|richtige[nmr]?|lebende[nmr]?)\s+{_HUMAN_DE}\b",
    rf"^\W*(ein(en)?\s+)?{_HUMAN_DE}(\s+bitte)?\W*$",
    rf"\b{_HUMAN_DE}\s+bitte\b",
    rf"\b(will|möchte|moechte|brauche|verlange|hätte\s+gerne?|haette\s+gerne?)\b(\s+\w+){{0,3}}\s+(einen|eine|nen|ne|mit\s+einem|mit\s+einer)\s+{_HUMAN_DE}\b",
    rf"\b(gebt|geben\s+sie|gib)\s+mir\s+(\w+\s+){{0,2}}{_HUMAN_DE}\b",
    r"\bmich\s+(\w+\s+){0,4}(anruft|anrufen|zurückruft|zurueckruft)\b",
    r"\b(rückruf|rueckruf|zurückrufen|zurueckrufen)\b",
]
# "Are you a real person?" asks what the assistant is, not for a person
_WHAT_ARE_YOU = re.compile(
    r"^\W*(are\s+you|r\s+u|bist\s+du|sind\s+sie)\b.{0,30}\b(bot|human|person|mensch|machine|maschine|ki|ai)\b\W*$",
    re.IGNORECASE,
)


def _compile(patterns: list[str]) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def _found(patterns: list[re.Pattern[str]], text: str) -> bool:
    t = " ".join(text.split())
    return any(p.search(t) for p in patterns)


_EXPLICIT_RE = _compile(_EXPLICIT)


def wants_human(text: str) -> bool:
    """True for an explicit wish to reach a person ("Ich möchte mit einem Menschen sprechen",
    "talk to an agent"). A question *about* people ("Can a person under 18 sign a contract?")
    is not one, nor asking whether the assistant is one."""
    return not _WHAT_ARE_YOU.search(text) and _found(_EXPLICIT_RE, text)


# Needs a look at the customer's own account: the knowledge base cannot answer it, a person can.
_OWN_EN = (
    r"\b(my|our)\s+(\w+\s+){0,2}(invoices?|bills?|refund|payment|contract|account|sim|esim|line|order|direct\s+debit"
    r"|number|port\w*|data|credit|balance|bank\s+details|address|discount|claim|minimum\s+term|internet|connection"
    r"|subscription|qr\s+code|money|package|parcel|delivery)\b"
)
_OWN_DE = (
    r"\b(mein|meine|meinen|meinem|meiner|unser|unsere|unseren|unserem|unserer)\s+(\w+\s+){0,2}"
    r"(rechnung|erstattung|vertrag|vertrags|konto|kundenkonto|zahlung|bestellung|sim|esim|karte|lastschrift"
    r"|gutschrift|rufnummer|nummer|anschluss|datenvolumen|guthaben|bankverbindung|iban|adresse|rabatt"
    r"|studentenrabatt|familienrabatt|schadensfall|geld|abbuchung|mindestlaufzeit|kündigung|leitung|sendung"
    r"|lieferung|paket)\w*"
)
_ACCOUNT = [
    r"\b(charged|billed|debited|overcharged)\s+(me|us|twice|double)\b",
    r"\b(you|they)\s+(charged|billed|debited|overcharged|cut|blocked|cancell?ed|took)\b",
    r"\bi\s+(was|have\s+been|got|am\s+being)\s+(charged|billed|debited)\b",
    r"\bwhere\s+is\s+my\s+(refund|order|package|parcel|money|sim|credit)\b",
    r"\b(has|have|is|are|did)\s+(my|the)\b.{0,50}\b(yet|already|been\s+received|arrived|been\s+applied|scheduled)\b",
    r"\bhow\s+much\b.{0,40}\b(left|remaining)\b",
    r"\bi\s+(paid|ordered|uploaded|ported|transferred)\b",
    r"\bwo\s+bleibt\s+(denn\s+)?(mein|meine)\b",
    r"\b(zu\s+viel|doppelt|falsch|schon\s+wieder|ohne\s+grund)\s+(abgebucht|berechnet|belastet|gesperrt)\b",
    r"\b(habt|haben)\s+(mir|uns)\b.{0,40}\b(gesperrt|abgebucht|berechnet|gekündigt)\b",
    r"\b(ist|sind|wurde|wurden)\s+(meine?|die|der|das)\b.{0,50}\b(schon|bereits)\b.{0,30}\b(eingegangen|angekommen|aktiv|durch|erstattet|zurück)",
    r"\bwie\s+viel\b.{0,50}\b(übrig|noch\s+frei)\b",
    r"\bich\s+habe\b.{0,40}\b(überwiesen|bezahlt|hochgeladen|bestellt|gekündigt)\b",
    r"\bprüfen\s+sie\b",
    r"\b(check|look\s+at)\s+(my|our|it)\b",
    r"\b(kundennummer|kundennr|vertragsnr|vertragsnummer|auftragsnummer|bestellnummer|vorgang|order\s+number|customer\s+number"
    r"|account\s+[a-z]?-?\d)",
]
_OWN_RE = _compile([_OWN_EN, _OWN_DE])
_ACCOUNT_RE = _compile(_ACCOUNT)
# "What happens if my SIM card is blocked?", "How do I check my invoice?" ask the help center, not
# about one account
_GENERAL = re.compile(
    r"\b(if|what\s+happens|wenn|falls|was\s+passiert|how\s+(do|can|to|should)\b|where\s+(can|do)\s+i|can\s+i|could\s+i"
    r"|is\s+it\s+possible|wie\s+(kann|muss|soll|lade|ändere|aktiviere|kündige|richte|finde|bekomme|sehe)\s+ich"
    r"|wie\s+\w+\s+ich|wo\s+(kann|finde)\s+ich|kann\s+ich|ist\s+es\s+möglich|gibt\s+es"
    # rules and prices, even when said about "my" contract: "Why do you keep my data 10 years?" (but
    # "Why was my SIM blocked?", "prüfen, warum mein Vertrag gesperrt wurde" are about one account)
    r"|(why|warum|wieso|weshalb)(?!\s+((was|were|is|are|has|have|did|wurde|wurden|ist|sind|hat|haben)\s+)?(my|our|mein|unser)\w*)"
    r"|since|how\s+(long|much|many|fast|quickly|soon)|wie\s+(lange|viel|schnell|oft|früh)"
    r"|what\s+(does|do|is|are)|was\s+(kostet|kosten|passiert))\b",
    re.IGNORECASE,
)

# Anger or exasperation: answering with another help article makes it worse.
_FRUSTRATION = [
    r"\b(ridiculous|unacceptable|useless|outrageous|disgraceful|pathetic|furious|scam|rip-?off|unbelievable|shambles"
    r"|annoying|infuriating|incompetent|(is|what)\s+a\s+joke|waste\s+of\s+time|thanks\s+for\s+nothing|losing\s+my\s+patience)\b",
    r"\b(fed\s+up|sick\s+(and\s+tired\s+)?of|nobody\s+helps|no\s+one\s+helps|worst\s+(service|company)|i'?m\s+done"
    r"|had\s+enough|for\s+crying\s+out\s+loud|wits'?\s+end|treat\s+me\s+like|keeps\s+looping|switching\s+provider"
    r"|well\s+done\s+guys|seriously\s*\?)",
    r"\b(unverschämt\w*|frechheit|lächerlich|nutzlos|katastroph\w*|zumutung|betrug|abzocke|wütend|stinksauer|saftladen"
    r"|genervt|(ist|echt)\s+ein\s+witz|großes\s+kino|danke\s+für\s+nichts|bringt\s+nix|bringt\s+nichts|müll|textbausteine"
    r"|sehr\s+professionell|unfähig|sauer|verarsch\w*|faxen\s+dicke)\b",
    r"\b(reicht\s+mir|reicht's|reicht\s+es|nase\s+voll|schnauze\s+voll|keinen\s+bock|niemand\s+hilft|keiner\s+hilft"
    r"|bin\s+ich\s+weg|was\s+soll\s+das|platzt|koche\s+vor\s+wut)",
    # the same failure again
    r"\b(zum|for\s+the)\s+(dritten|vierten|fünften|x-ten|zigsten|third|fourth|fifth|nth|umpteenth)\s+(mal|time)\b",
    r"\b(third|fourth|fifth|second)\s+(time|email|e-mail|call|month)\b",
    r"\b(dritte|vierte|fünfte)[nm]?\s+(mal|monat)\b",
    r"\bschon\s+wieder\b",
    r"\b(still|immer\s+noch|noch\s+immer)\b.{0,30}\b(not|doesn't|does\s+not|isn't|nothing|no|nicht|kein\w*|nichts|ständig)\b",
    r"\bseit\s+(\d+|zwei|drei|vier|fünf|sechs)\s+(wochen|monaten)\b",
    # "waiting for 3 weeks", "no internet for two weeks"; not "kept for 6 months" (a rule)
    r"\b(been|waiting|waited|no|nothing|without)\b.{0,40}\bfor\s+(\d+|two|three|four|five|six)\s+(weeks|months)\b",
]
_FRUSTRATION_RE = _compile(_FRUSTRATION)
_HAPPY = re.compile(
    r"\b(danke|thanks?|thank\s+you|love|yay|perfect|perfekt|endlich\s+(läuft|geht|funktioniert))\b", re.I
)
_ACRONYMS = {"SIM", "PUK", "PIN", "LTE", "DSL", "IBAN", "SMS", "MMS", "VOLTE", "WLAN", "WIFI", "USA", "EUR", "GB", "MB"}


def _shouts(text: str) -> bool:
    """Three or more words in capitals that are not acronyms: SHOUTING."""
    caps = [w for w in re.findall(r"\b[A-ZÄÖÜ]{3,}\b", text) if w not in _ACRONYMS]
    return len(caps) >= 3 or (len(caps) >= 1 and len(text.split()) <= 3 and not _HAPPY.search(text))


def needs_account(text: str) -> bool:
    """A request about the customer's own invoice, refund, contract, order or line ("you charged me
    50 euros too much", "Wo bleibt meine Erstattung?", "cancel my contract"): only a person with
    account access can help. General and hypothetical questions ("How do I check my invoice?",
    "What if my SIM is blocked?") are for the help center."""
    if _found(_ACCOUNT_RE, text):
        return True
    return not _GENERAL.search(text) and _found(_OWN_RE, text)


def asks_about_rules(text: str) -> bool:
    """A question in the form of one about rules and prices ("Warum bucht ihr meine Rechnung erst am
    15. Werktag ab?"), which no account pattern matched: when it states a figure the help articles
    contradict, the pipeline corrects it instead of handing over on the classifier's word."""
    return text.rstrip().endswith("?") and bool(_GENERAL.search(text)) and not _found(_ACCOUNT_RE, text)


def frustrated(text: str) -> bool:
    """Clear anger or exasperation in German or English: angry words, repeated failure,
    SHOUTING, a row of !!! or ??? (not in a thank-you)."""
    if _found(_FRUSTRATION_RE, text) or _shouts(text):
        return True
    return bool(re.search(r"[!?]{3,}", text)) and not _HAPPY.search(text)


RULES = {"human": wants_human, "frustrated": frustrated, "account": needs_account}
REASONS = {"human": "explicit_request", "frustrated": "frustration", "account": "account_specific"}


@dataclass(frozen=True)
class LabelModel:
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, vector: Sequence[float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, vector, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


class IntentModel:
    """The trained classifier; valid only for vectors of the embedder it was trained on."""

    def __init__(self, embedder: str, labels: dict[str, LabelModel]) -> None:
        self.embedder = embedder
        self.labels = labels

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> IntentModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        labels = {
            name: LabelModel(tuple(v["weights"]), float(v["bias"]), float(v["threshold"]))
            for name, v in data["labels"].items()
        }
        return cls(str(data["embedder"]), labels)

    def detect(self, vector: Sequence[float]) -> dict[str, bool]:
        return {name: m.probability(vector) >= m.threshold for name, m in self.labels.items()}


class IntentDetector:
    """Patterns, plus the classifier when the service runs the embedder it was trained for."""

    def __init__(self, embedder: object | None = None, model: IntentModel | None = None) -> None:
        self.embedder = embedder
        self.model = model
        name = getattr(embedder, "name", None)
        if model is not None and name != model.embedder:
            log.warning("intent model is for %s, the service embeds with %s: patterns only", model.embedder, name)
            self.model = None

    def labels(self, text: str) -> dict[str, bool]:
        found = {label: rule(text) for label, rule in RULES.items()}
        if self.model is not None and not all(found.values()):
            vector = embed_query(self.embedder, text)  # type: ignore[arg-type]
            learned = self.model.detect(vector)
            found = {label: found[label] or learned.get(label, False) for label in LABELS}
        return found

    def reason(self, text: str) -> str | None:
        """The handoff reason for ``text`` (explicit request first), or None."""
        found = self.labels(text)
        return next((REASONS[label] for label in LABELS if found[label]), None)
