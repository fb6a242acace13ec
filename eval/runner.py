"""Run a question set through the service and score every answer.

Two targets: the pipeline in process (the same components the service builds, over a fresh
temporary index of ``--kb`` when given) or a running service over HTTP (black box). Every scored
question is appended to ``<out>/cache.jsonl`` at once, so an interrupted run resumes where it
stopped; a cached row is reused only for the same question text and the same target.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import httpx

from rag_service.answer.citations import MARKER, split_sentences
from rag_service.answer.pipeline import Pipeline
from rag_service.answer.types import Done, Query, TextDelta
from rag_service.desk.conversations import Turn
from rag_service.model.llm import Generator, Message, Usage

from .dataset import Question
from .judge import Judge
from .kbset import kb_scores
from .metrics import (
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
    mean,
    percentile,
    wilson,
)
from .ragas_faithfulness import RagasFaithfulness

K = 5
# the service's own instructions: an adversarial reply that repeats them leaked its system prompt
INSTRUCTIONS = [
    f.read_text(encoding="utf-8") for f in resources.files("rag_service.prompts").iterdir() if f.name.endswith(".txt")
]
COUNTS = ("judge_failures", "ragas_nan", "ragas_errors")  # summed, not averaged
PROPORTIONS = (
    "action_accuracy",
    "false_refusal_rate",
    "correct_refusal_rate",
    "handoff_recall",
    f"hit@{K}",
    "hallucination",
    "answer_correctness",
    "wrong_answer_rate",
    "answered_from_gold",
    "right",
    "refused",
    "handed_off",
    "declined",
    "invented",
    "leak_free",
    "premise_corrected",
)


class Target(Protocol):
    """Where the questions go; ``name`` identifies it in the cache key."""

    name: str

    def ask(self, question: Question) -> dict[str, Any]: ...


STAGES = ("understand", "route", "retrieve", "generate", "check")


class CountingGenerator:
    """Counts the model calls (generations and yes/no scores) of the generator it wraps; the in-process
    target reports the count per question. Build the components with it so the guard's calls count."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls = 0

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, usage: Usage
    ) -> Iterator[str]:
        self.calls += 1
        return self.inner.stream(messages, max_tokens=max_tokens, temperature=temperature, usage=usage)

    def yes_probability(self, messages: Sequence[Message]) -> float:
        self.calls += 1
        return self.inner.yes_probability(messages)  # type: ignore[attr-defined, no-any-return]

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()


class InProcessTarget:
    """The service's own pipeline; sees the retrieved passages, so retrieval metrics use them."""

    def __init__(self, pipeline: Pipeline, name: str = "in-process") -> None:
        self.pipeline = pipeline
        self.name = name

    def ask(self, question: Question) -> dict[str, Any]:
        counter = self.pipeline.generator if isinstance(self.pipeline.generator, CountingGenerator) else None
        calls_before = counter.calls if counter is not None else None
        started = time.perf_counter()
        first: float | None = None
        result = None
        history = [
            Turn(t["role"], t["content"], "answer" if t["role"] == "assistant" else None) for t in question.history
        ]
        for event in self.pipeline.events(Query(question=question.question, history=history or None)):
            if isinstance(event, TextDelta) and first is None:
                first = time.perf_counter() - started
            elif isinstance(event, Done):
                result = event.result
        assert result is not None
        return {
            "action": result.action,
            "reason": result.reason,
            "answer": result.answer,
            "language": result.language,
            "citations": [{"n": c.n, "doc_id": c.doc_id, "text": c.text} for c in result.citations],
            "retrieved_doc_ids": [p.chunk.doc_id for p in result.passages],
            "contexts": [p.chunk.text for p in result.passages],
            "first_text_ms": None if first is None else first * 1000,
            "total_ms": (time.perf_counter() - started) * 1000,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "withheld_sentences": list(result.dropped),
            "grounding": list(result.grounding),
            "confidence": result.confidence,
            "timings": dict(result.timings),
            "model_calls": None if counter is None or calls_before is None else counter.calls - calls_before,
        }


class HttpTarget:
    """A running service, through ``POST /v1/answer``. Retrieval metrics use the cited documents
    (the API does not expose the other retrieved passages); first text = the server's first token."""

    def __init__(self, url: str, *, api_key: str | None = None, client: httpx.Client | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = client or httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=300)
        self.name = f"http:{url}"

    def ask(self, question: Question) -> dict[str, Any]:
        started = time.perf_counter()
        if question.history:  # a follow-up: the chat API takes the earlier turns as messages
            messages = [*question.history, {"role": "user", "content": question.question}]
            r = self.client.post("/v1/chat/completions", json={"model": "rag", "messages": messages})
        else:
            r = self.client.post("/v1/answer", json={"question": question.question})
        total = (time.perf_counter() - started) * 1000
        if r.status_code != 200:
            message = r.json().get("error", {}).get("message", r.text[:200]) if r.content else ""
            return {"error": f"HTTP {r.status_code}: {message}", "action": "error", "answer": "", "total_ms": total}
        body = r.json()
        if question.history:  # the chat response in the answer API's shape
            rag = body.get("rag") or {}
            body = {
                "action": rag.get("action", "answer"),
                "reason": rag.get("reason"),
                "answer": body["choices"][0]["message"]["content"],
                "language": question.language,
                "citations": body.get("citations") or [],
                "timings": rag.get("timings") or {},
                "grounding": rag.get("grounding") or [],
            }
        return {
            "action": body["action"],
            "reason": body["reason"],
            "answer": body["answer"],
            "language": body["language"],
            "citations": [{"n": c["n"], "doc_id": c["doc_id"], "text": c["text"]} for c in body["citations"]],
            "retrieved_doc_ids": [c["doc_id"] for c in body["citations"]],
            "contexts": [c["text"] for c in body["citations"]],
            "first_text_ms": body["timings"].get("first_token_ms"),
            "timings": body["timings"],
            "grounding": body.get("grounding") or [],
            "confidence": body.get("confidence"),
            "total_ms": total,
            "prompt_tokens": None,
            "completion_tokens": None,
            "model_calls": body["timings"].get("model_calls"),
        }


def claims_of(answer: str) -> list[tuple[str, list[int]]]:
    """The answer's statements (markers removed) with the citation numbers each carries. Questions
    back to the customer and short courtesies ("Gern geschehen.") state nothing and are skipped."""
    sentences, rest = split_sentences(answer + " ")
    out = []
    for s in [*sentences, rest.strip()]:
        numbers = [int(n) for m in MARKER.finditer(s) for n in re.split(r"\s*[,;]\s*", m.group(1))]
        text = MARKER.sub("", s).strip()
        if text.endswith("?") or (len(text.split()) < 3 and not re.search(r"\d", text)):
            continue
        out.append((text, numbers))
    return out


def judged(
    response: dict[str, Any],
    ground_truth: str | None,
    judge: Judge,
    threshold: float,
    *,
    question: str = "",
    ragas: RagasFaithfulness | None = None,
) -> dict[str, Any]:
    """Claim-level checks of an answered response: faithfulness to all retrieved passages,
    hallucination (any unsupported claim), citation precision and recall, correctness against
    the reference, and ragas' faithfulness when given. Judge failures and ragas' NaN/errors are
    counted, never scored as 0 or 1."""
    claims = claims_of(str(response.get("answer", "")))
    contexts = list(response.get("contexts") or [])
    cited_text = {c["n"]: c["text"] for c in response.get("citations") or []}
    everything = "\n\n".join(contexts)
    rows: list[dict[str, Any]] = []
    failures = 0
    supported: list[bool] = []
    precise: list[bool] = []
    for text, numbers in claims:
        row: dict[str, Any] = {"claim": text, "cited": numbers}
        try:
            p = judge.support(everything, text) if everything else 0.0
            row["score"], row["supported"] = round(p, 3), p >= threshold
            supported.append(p >= threshold)
            for n in numbers:
                if n in cited_text:
                    pc = judge.support(cited_text[n], text)
                    precise.append(pc >= threshold)
                    row.setdefault("cited_scores", []).append(round(pc, 3))
        except Exception as exc:  # a judge that errs is reported, not guessed
            failures += 1
            row["error"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
    correctness = None
    if ground_truth:
        try:
            answer_text = " ".join(t for t, _ in claims)
            correctness = float(judge.support(ground_truth, answer_text) >= threshold) if answer_text else 0.0
        except Exception:
            failures += 1
    extra: dict[str, Any] = {}
    if ragas is not None:
        r = ragas.score(question, " ".join(t for t, _ in claims), contexts)
        extra = {
            "ragas_faithfulness": r.value,
            "ragas_nan": float(r.status == "nan"),
            "ragas_errors": float(r.status == "error"),
            "ragas": {"status": r.status, "detail": r.detail},
        }
    return {
        **extra,
        "verdicts": rows,
        "faithfulness": sum(supported) / len(supported) if supported else None,
        "hallucination": (float(not all(supported)) if supported else None),
        "citation_precision": sum(precise) / len(precise) if precise else None,
        "citation_recall": sum(1 for _, n in claims if n) / len(claims) if claims else None,
        "answer_correctness": correctness,
        "judge_failures": failures,
    }


def score(
    question: Question,
    response: dict[str, Any],
    judge: Judge | None = None,
    threshold: float = 0.5,
    ragas: RagasFaithfulness | None = None,
) -> dict[str, float | None]:
    """Per-question metric values (None = not applicable to this question). Judge metrics are added
    for answered responses when a judge is given; the verdicts go into ``response["verdicts"]``."""
    action = str(response.get("action"))
    expected = question.extra.get("expected_action")
    retrieved = list(response.get("retrieved_doc_ids") or [])
    extra: dict[str, float | None] = {}
    if judge is not None and action == "answer":
        j = judged(response, question.ground_truth, judge, threshold, question=question.question, ragas=ragas)
        response["verdicts"] = j.pop("verdicts")
        if "ragas" in j:
            response["ragas"] = j.pop("ragas")
        extra = {k: (None if v is None else float(v)) for k, v in j.items()}
    return {
        **extra,
        **kb_scores(question, response, INSTRUCTIONS),
        f"hit@{K}": HitAtK(K).score(retrieved, question.doc_ids).value,
        f"recall@{K}": RecallAtK(K).score(retrieved, question.doc_ids).value,
        "mrr": MRR().score(retrieved, question.doc_ids).value,
        "action_accuracy": ActionAccuracy().score(question.type, action, expected).value,
        "false_refusal_rate": FalseRefusal().score(question.type, action).value,
        "correct_refusal_rate": CorrectRefusal().score(question.type, action).value,
        "handoff_recall": HandoffRecall().score(question.type, action).value,
        "key_fact_recall": KeyFactRecall().score(question.key_facts, str(response.get("answer", "")), action).value,
        "answered_from_gold": AnsweredFromGold()
        .score(question.type, action, [str(c.get("doc_id")) for c in response.get("citations") or []], question.doc_ids)
        .value,
        "wrong_answer_rate": WrongAnswer()
        .score(question.type, action, question.key_facts, str(response.get("answer", "")))
        .value,
    }


def _key(question: Question, target: str) -> str:
    turns = json.dumps(question.history, ensure_ascii=False) if question.history else ""
    return hashlib.sha256(f"{target}\n{question.id}\n{question.question}{turns}".encode()).hexdigest()[:16]


def run(
    questions: Sequence[Question],
    target: Target,
    cache_path: Path,
    *,
    judge: Judge | None = None,
    threshold: float = 0.5,
    ragas: RagasFaithfulness | None = None,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Rows for all questions, in dataset order; cached rows are reused, new ones appended at once."""
    cached: dict[str, dict[str, Any]] = {}
    if cache_path.exists():
        for line in cache_path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line cut short by an interruption
            cached[row["key"]] = row
    rows = []
    cache_path.parent.mkdir(parents=True, exist_ok=True)
    with cache_path.open("a", encoding="utf-8") as cache:
        for q in questions:
            judging = f"|judge={judge.name}@{threshold}" + ("+ragas" if ragas else "") if judge else ""
            key = _key(q, target.name + judging)
            row = cached.get(key)
            if row is not None:  # scored by an earlier version: the judge-free scores are recomputed
                row["metrics"].update(kb_scores(q, row, INSTRUCTIONS))
            else:
                try:
                    response = target.ask(q)
                except Exception as exc:  # one failing question must not end the run
                    response = {"error": f"{type(exc).__name__}: {exc}", "action": "error", "answer": ""}
                row = {
                    "key": key,
                    "id": q.id,
                    "question": q.question,
                    "type": q.type,
                    "language": q.language,
                    "gold_doc_ids": q.doc_ids,
                    "key_facts": q.key_facts,
                    "ground_truth": q.ground_truth,
                    "tags": list(q.extra.get("tags") or []),
                    "split": q.extra.get("split"),
                    "expected": q.extra.get("expected") or q.extra.get("expected_action"),
                    **response,
                }
                row["metrics"] = score(q, row, judge, threshold, ragas)
                cache.write(json.dumps(row, ensure_ascii=False) + "\n")
                cache.flush()
            rows.append(row)
            if on_done:
                on_done(row)
    return rows


def aggregate(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean of every metric over the rows it applies to, with counts and 95% Wilson intervals."""
    names = sorted({name for r in rows for name in r["metrics"]})
    metrics: dict[str, float | None] = {}
    counts: dict[str, int] = {}
    intervals: dict[str, list[float] | None] = {}
    for name in names:
        values = [r["metrics"][name] for r in rows if r["metrics"].get(name) is not None]
        metrics[name] = float(sum(values)) if name in COUNTS else mean(values)
        counts[name] = len(values)
        if name in PROPORTIONS:
            ci = wilson(sum(values), len(values))
            intervals[name] = list(ci) if ci else None
    first = [float(r["first_text_ms"]) for r in rows if r.get("first_text_ms") is not None]
    total = [float(r["total_ms"]) for r in rows if r.get("total_ms") is not None]
    for label, values in (("first_text_ms", first), ("total_ms", total)):
        metrics[f"{label}_p50"] = percentile(values, 50)
        metrics[f"{label}_p95"] = percentile(values, 95)
    for stage in STAGES:  # what each stage of the answer path costs (rag_service/answer/)
        spent = [
            float(r["timings"][f"{stage}_ms"]) for r in rows if (r.get("timings") or {}).get(f"{stage}_ms") is not None
        ]
        metrics[f"{stage}_ms_p50"] = percentile(spent, 50)
        calls = [float(r["timings"].get(f"{stage}_calls", 0)) for r in rows if r.get("timings")]
        metrics[f"{stage}_calls_mean"] = mean(calls)
    for label in ("prompt_tokens", "completion_tokens"):
        values = [float(r[label]) for r in rows if r.get(label) is not None]
        metrics[f"{label}_mean"] = mean(values)
    metrics["errors"] = float(sum(1 for r in rows if r.get("error")))
    if "hallucination" in metrics:  # the headline name, as a rate over answered responses
        metrics["hallucination_rate"] = metrics["hallucination"]
        intervals["hallucination_rate"] = intervals.get("hallucination")
        counts["hallucination_rate"] = counts.get("hallucination", 0)
    return {"metrics": metrics, "counts": counts, "intervals": intervals}


def grouped(rows: Sequence[dict[str, Any]], field: str) -> dict[str, dict[str, Any]]:
    """Aggregates per value of ``field``; a list field (tags) puts a row in each of its groups."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        values = r.get(field)
        for value in values if isinstance(values, list) else [values]:
            groups.setdefault(str(value), []).append(r)
    return {k: {"n": len(v), **aggregate(v)} for k, v in sorted(groups.items())}
