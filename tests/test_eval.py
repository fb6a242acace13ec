"""The eval suite: metrics on hand-computed examples, gates, resume, HTTP mode, report rendering."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eval.cli import main as rag_eval
from eval.dataset import Question, load_questions
from eval.metrics import (
    MRR,
    ActionAccuracy,
    AnsweredFromGold,
    CorrectRefusal,
    FalseRefusal,
    HandoffRecall,
    HitAtK,
    KeyFactRecall,
    RecallAtK,
    WrongAnswer,
    fact_found,
    percentile,
    wilson,
)
from eval.report import check_gates, parse_gates
from eval.runner import HttpTarget, InProcessTarget, aggregate, run

from .conftest import ROOT


def test_retrieval_metrics_by_hand() -> None:
    retrieved = ["a.md", "a.md", "b.md", "c.md", "d.md", "e.md", "f.md"]
    assert HitAtK(2).score(retrieved, ["b.md"]).value == 1.0  # documents, not chunks: a, b
    assert HitAtK(2).score(retrieved, ["c.md"]).value == 0.0
    assert RecallAtK(3).score(retrieved, ["b.md", "f.md"]).value == 0.5
    assert MRR().score(retrieved, ["c.md"]).value == pytest.approx(1 / 3)
    assert MRR().score(retrieved, ["z.md"]).value == 0.0
    assert HitAtK(5).score(retrieved, []).value is None


def test_behaviour_metrics_by_hand() -> None:
    assert ActionAccuracy().score("answerable", "answer").value == 1.0
    assert ActionAccuracy().score("unanswerable", "handoff").value == 1.0  # a human is a fine refusal
    assert ActionAccuracy().score("handoff", "refuse").value == 0.0
    assert ActionAccuracy().score("adversarial", "answer", expected="refuse").value == 0.0
    assert FalseRefusal().score("answerable", "refuse").value == 1.0
    assert FalseRefusal().score("unanswerable", "refuse").value is None
    assert CorrectRefusal().score("unanswerable", "answer").value == 0.0
    assert HandoffRecall().score("handoff", "handoff").value == 1.0
    wrong = WrongAnswer()
    assert wrong.score("unanswerable", "answer", [], "Ja, gibt es.").value == 1.0
    assert wrong.score("answerable", "answer", ["19,90 €"], "Er kostet 29,90 €.").value == 1.0
    assert wrong.score("answerable", "answer", ["19,90 €", "24 Monate"], "Er kostet 19,90 €.").value == 0.0
    assert wrong.score("answerable", "refuse", ["19,90 €"], "").value is None  # a refusal is not an answer
    gold = AnsweredFromGold()
    assert gold.score("answerable", "answer", ["b.md", "a.md"], ["a.md"]).value == 1.0
    assert gold.score("answerable", "answer", ["b.md"], ["a.md"]).value == 0.0  # cited the wrong document
    assert gold.score("answerable", "refuse", [], ["a.md"]).value == 0.0  # refusing does not help
    assert gold.score("unanswerable", "refuse", [], []).value is None


def test_key_facts_normalise_numbers_and_case() -> None:
    assert fact_found("9,90 €", "It costs €9.90 per month.")
    assert fact_found("5,00 €", "Die Gebühr beträgt 5 €.")
    assert not fact_found("19,90 €", "It costs €9.90.")
    assert not fact_found("1 Stunde", "Die Mindestlaufzeit beträgt 24 Monate [1].")  # a marker is no number
    assert fact_found("1 Stunde", "Sie sind höchstens 1 Stunde nicht erreichbar [2].")
    assert fact_found("three months", "The notice period is Three Months.")
    assert fact_found("3 Werktagen", "You get it within 3 working days [1].")
    assert not fact_found("3 Werktagen", "Die Kündigung dauert bis zu 3 Monate [1].")  # another unit's 3
    assert KeyFactRecall().score(["14 Tage", "kostenlos"], "14 Tage, nicht gratis", "answer").value == 0.5
    assert KeyFactRecall().score(["14 Tage"], "14 Tage", "refuse").value == 0.0
    assert KeyFactRecall().score([], "x", "answer").value is None


def test_wilson_and_percentile_by_hand() -> None:
    lo, hi = wilson(8, 10)  # type: ignore[misc]
    assert (round(lo, 3), round(hi, 3)) == (0.49, 0.943)
    assert wilson(0, 0) is None
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([5], 95) == 5


def test_gates_parse_and_check() -> None:
    gates = check_gates(
        parse_gates(["key_fact_recall=0.8"], ["false_refusal_rate=0.1", "nope=1"]),
        {"key_fact_recall": 0.75, "false_refusal_rate": 0.05},
    )
    assert [(g.metric, g.passed) for g in gates] == [
        ("key_fact_recall", False),
        ("false_refusal_rate", True),
        ("nope", False),
    ]
    with pytest.raises(ValueError, match="metric=number"):
        parse_gates(["faithfulness"], [])


QUESTIONS = [
    Question(
        "q1",
        "Was kostet ein Ersatzschlüssel für das Akkuschloss?",
        "answerable",
        "de",
        None,
        ["12,50 €"],
        ["pannenhilfe.txt"],
    ),
    Question("q2", "Do you sell satellite TV?", "unanswerable", "en"),
    Question("q3", "Ich möchte mit einem Menschen sprechen", "handoff", "de"),
]


class _Flaky:
    """A target that fails on its second question, like an interrupted run."""

    name = "flaky"

    def __init__(self, inner: Any, fail_at: int | None) -> None:
        self.inner, self.fail_at, self.calls = inner, fail_at, 0

    def ask(self, q: Question) -> dict[str, Any]:
        self.calls += 1
        if self.calls == self.fail_at:
            raise KeyboardInterrupt
        return self.inner.ask(q)


def test_run_scores_and_resumes_after_interruption(make_client: Any, tmp_path: Path) -> None:
    client, gen = make_client("Ein Ersatzschlüssel kostet 12,50 € [1].")
    target = InProcessTarget(client.app.state.components.pipeline)  # type: ignore[attr-defined]
    cache = tmp_path / "out" / "cache.jsonl"
    with pytest.raises(KeyboardInterrupt):
        run(QUESTIONS, _Flaky(target, fail_at=2), cache)
    assert len(cache.read_text().splitlines()) == 1
    resumed = _Flaky(target, fail_at=None)
    rows = run(QUESTIONS, resumed, cache)
    assert resumed.calls == 2 and len(gen.calls) == 1  # q1 came from the cache
    assert [r["action"] for r in rows] == ["answer", "refuse", "handoff"]
    summary = aggregate(rows)["metrics"]
    assert summary["action_accuracy"] == 1.0 and summary["key_fact_recall"] == 1.0 and summary["hit@5"] == 1.0


def test_http_mode_against_the_app(make_client: Any, tmp_path: Path) -> None:
    client, _ = make_client("Ein Ersatzschlüssel kostet 12,50 € [1].")
    target = HttpTarget("http://testserver", client=client)
    rows = run(QUESTIONS, target, tmp_path / "cache.jsonl")
    assert [r["action"] for r in rows] == ["answer", "refuse", "handoff"]
    assert rows[0]["retrieved_doc_ids"] == ["pannenhilfe.txt"]


FOLLOW_UP = Question(
    id="f1",
    question="Und für Geschäftskunden?",
    language="de",
    key_facts=["drei Monaten"],
    doc_ids=["firmenabo.md"],
    history=[
        {"role": "user", "content": "Wie lang ist die Kündigungsfrist für Privatkunden?"},
        {"role": "assistant", "content": "Privatkunden kündigen mit einer Frist von einem Monat [1]."},
    ],
)


@pytest.mark.parametrize("mode", ["in-process", "http"])
def test_a_follow_up_question_is_asked_after_its_conversation(make_client: Any, tmp_path: Path, mode: str) -> None:
    client, gen = make_client(
        "Wie lang ist die Kündigungsfrist für Geschäftskunden?",
        "Geschäftskunden kündigen mit einer Frist von drei Monaten [1].",
        query_rewrite=True,
    )
    pipeline = client.app.state.components.pipeline  # type: ignore[attr-defined]
    target = InProcessTarget(pipeline) if mode == "in-process" else HttpTarget("http://testserver", client=client)
    [row] = run([FOLLOW_UP], target, tmp_path / "cache.jsonl")
    assert "Customer: Wie lang ist die Kündigungsfrist für Privatkunden?" in gen.calls[0][-1]["content"]
    assert row["action"] == "answer" and row["metrics"]["key_fact_recall"] == 1.0
    assert row["metrics"]["answered_from_gold"] == 1.0


def test_a_malformed_history_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "x", "question": "Und?", "history": [{"role": "system", "content": "hi"}]}\n')
    with pytest.raises(ValueError, match=r"q.jsonl:1: .*role"):
        load_questions(path)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)


def test_cli_writes_reports_and_gates_set_the_exit_code(
    make_client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = make_client("Ein Ersatzschlüssel kostet 12,50 € [1].", "Ein Ersatzschlüssel kostet 12,50 € [1].")
    import eval.runner as runner_module

    real_target = runner_module.HttpTarget
    monkeypatch.setattr(  # --url reaches the in-process app
        runner_module, "HttpTarget", lambda url, api_key=None: real_target(url, api_key=api_key, client=client)
    )
    dataset = tmp_path / "q.jsonl"
    dataset.write_text("".join(json.dumps(q.__dict__ | {"extra": None}) + "\n" for q in QUESTIONS), encoding="utf-8")
    out = tmp_path / "out"
    ok = CliRunner().invoke(
        rag_eval,
        [
            "run",
            "--dataset",
            str(dataset),
            "--url",
            "http://testserver",
            "--out",
            str(out),
            "--no-judge",
            "--fail-under",
            "action_accuracy=0.9",
            "--max-gap",
            "action_accuracy=1",
        ],
    )
    assert ok.exit_code == 0, ok.output
    report = json.loads((out / "report.json").read_text())
    assert set(report) >= {"run", "metrics", "by_type", "by_language", "gates", "questions", "parity"}
    assert report["gates"][0]["passed"] is True and report["parity_gates"][0]["passed"] is True
    assert set(report["parity"]["action_accuracy"]["languages"]) == {"de", "en"}
    assert "language parity" in ok.output and "Language parity" in (out / "report.html").read_text()
    parser = _Tags()
    parser.feed((out / "report.html").read_text())
    assert parser.tags.count("svg") >= 3 and "table" in parser.tags
    from .fakes import FakeJudge

    monkeypatch.setattr("eval.judge.build_judge", lambda **kw: FakeJudge())
    failing = CliRunner().invoke(
        rag_eval,
        [
            "run",
            "--dataset",
            str(dataset),
            "--url",
            "http://testserver",
            "--out",
            str(out),
            "--fail-over",
            "correct_refusal_rate=0.5",
            "--no-ragas",
        ],
    )
    assert failing.exit_code == 1 and "gate failed" in failing.output and "correct_refusal_rate" in failing.output
    judged_report = json.loads((out / "report.json").read_text())
    assert judged_report["run"]["judge"] == "fake-judge"
    assert judged_report["metrics"]["faithfulness"] == 1.0 and judged_report["metrics"]["hallucination_rate"] == 0.0
    assert judged_report["questions"][0]["verdicts"][0]["supported"] is True


@pytest.mark.parametrize("name", ["kb_docs_eval.jsonl", "kb_docs_hard.jsonl", "kb_docs_premises.jsonl"])
def test_our_eval_sets_are_valid(name: str) -> None:
    questions = load_questions(ROOT / "eval" / "datasets" / name)
    assert len({q.id for q in questions}) == len(questions) >= 30
    kb = {p.name for p in (ROOT / "kb_docs").iterdir()}
    for q in questions:
        assert set(q.doc_ids) <= kb, q.id
        assert q.type in {"answerable", "unanswerable", "handoff", "adversarial"}
        assert q.type != "answerable" or (q.doc_ids and q.key_facts), q.id


def test_judged_metrics_by_hand() -> None:
    from eval.runner import judged

    from .fakes import FakeJudge

    response = {
        "answer": "Versand kostet 4,95 € [1]. Lieferung dauert zwei Wochen [2]. Danke.",
        "contexts": ["Versand kostet 4,95 € unter 50 €.", "Lieferung dauert 2 bis 3 Werktage."],
        "citations": [
            {"n": 1, "text": "Versand kostet 4,95 € unter 50 €."},
            {"n": 2, "text": "Lieferung dauert 2 bis 3 Werktage."},
        ],
    }
    j = judged(response, "Der Versand kostet 4,95 €.", FakeJudge(), 0.5)
    assert [v["supported"] for v in j["verdicts"]] == [True, False]  # "Danke." states nothing: not a claim
    assert j["faithfulness"] == 0.5
    assert j["hallucination"] == 1.0
    assert j["citation_precision"] == 0.5 and j["citation_recall"] == 1.0
    assert j["answer_correctness"] == 0.0  # the answer adds "zwei Wochen", which the reference does not say
    assert j["judge_failures"] == 0
    broken = judged(response, None, FakeJudge(fail_on="Lieferung"), 0.5)
    assert broken["judge_failures"] == 1 and broken["faithfulness"] == 1.0  # counted, not scored
    uncited = judged({**response, "answer": "Versand kostet 4,95 €."}, None, FakeJudge(), 0.5)
    assert uncited["citation_recall"] == 0.0 and uncited["citation_precision"] is None


def test_labelled_pair_loaders(tmp_path: Path) -> None:
    from eval.labelled import load_pairs
    from eval.metrics import detection_report

    f = tmp_path / "pairs.jsonl"
    f.write_text(
        '{"id": "s1", "domain": "news", "document": "D", "claim": "C", "label": 0}\n'
        '{"id": "h1", "knowledge": "K", "question": "Q?", "answer": "A", "label": 1}\n'
        '{"id": "o1", "context": "X", "claim": "Y", "label": 1}\n',
        encoding="utf-8",
    )
    pairs = load_pairs(f)
    assert [(p.context, p.label, p.group) for p in pairs] == [("D", 0, "news"), ("K", 1, ""), ("X", 1, "")]
    assert pairs[1].claim == 'The answer to the question "Q?" is: A'
    f.write_text('{"text": "?"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":1:"):
        load_pairs(f)
    ours = load_pairs(ROOT / "eval" / "datasets" / "judge_pairs.jsonl")
    assert len(ours) == 10 and {p.label for p in ours} == {0, 1}
    report = detection_report([0, 0, 1, 1], [0.1, 0.9, 0.8, 0.2], 0.5)  # tp=1 fn=1 fp=1 tn=1
    assert (report["tp"], report["fn"], report["fp"], report["tn"]) == (1, 1, 1, 1)
    assert report["balanced_accuracy"] == 0.5 and report["precision_unsupported"] == 0.5


def test_compare_says_whether_a_change_is_beyond_noise(tmp_path: Path) -> None:
    from eval.metrics import difference_interval

    lo, hi = difference_interval(0.5, 100, 0.6, 100)  # type: ignore[misc]
    assert lo < 0 < hi and hi - lo == pytest.approx(0.27, abs=0.01)
    lo, hi = difference_interval(0.1, 200, 0.5, 200)  # type: ignore[misc]
    assert 0 < lo < 0.4 < hi

    def report(rate: float, n: int) -> dict[str, Any]:
        return {
            "metrics": {"hallucination_rate": rate, "total_ms_p50": 4000.0},
            "counts": {"hallucination_rate": n},
            "intervals": {"hallucination_rate": [0, 1]},
        }

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(report(0.30, 200)))
    b.write_text(json.dumps(report(0.05, 200)))
    out = CliRunner().invoke(rag_eval, ["compare", str(a), str(b)])
    assert out.exit_code == 0, out.output
    line = next(x for x in out.output.splitlines() if "hallucination_rate" in x)
    assert "-0.250" in line and "*" in line


def test_judge_check_cli_measures_the_judge_or_the_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eval.judge import GuardJudge

    from .fakes import FakeGenerator, FakeJudge

    kinds: list[str] = []

    def build(**kw: Any) -> Any:
        kinds.append(kw["kind"])
        if kw["kind"] == "guard":  # the guard's own prompt, on a fake generator that reads it
            gen = FakeGenerator()
            gen.support = lambda prompt: 1.0 if "5,00 €" in prompt.split("Claim:")[1] else 0.0
            return GuardJudge(gen, "fake")
        return FakeJudge()

    monkeypatch.setattr("eval.judge.build_judge", build)
    pairs = ROOT / "eval" / "datasets" / "judge_pairs.jsonl"
    out = tmp_path / "check.json"
    for check in ("judge", "guard"):
        result = CliRunner().invoke(
            rag_eval, ["judge-check", "--dataset", str(pairs), "--check", check, "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        report = json.loads(out.read_text())
        assert set(report["overall"]) >= {"balanced_accuracy", "precision_unsupported", "tp", "fn", "fp", "tn"}
        assert "balanced accuracy" in result.output
    scores = {p["id"]: p["score"] for p in report["pairs"]}  # the guard run's per-pair scores
    assert (scores["jp01"], scores["jp02"]) == (1.0, 0.0)  # same passage: the right fee passes, the wrong one not
    assert report["judge"] == "guard:fake"
    assert kinds == ["judge", "guard"]
