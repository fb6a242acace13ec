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
_EXPLICIT_RE = [re.compile(p, re.IGNORECASE) for p in _EXPLICIT]


def wants_human(text: str) -> bool:
    """True for an explicit wish to reach a person ("Ich möchte mit einem Menschen sprechen",
    "talk to an agent"). A question *about* people ("Can a person under 18 sign a contract?")
    is not one."""
    t = " ".join(text.split())
    return any(p.search(t) for p in _EXPLICIT_RE)
