"""Metrics, one small class each: explicit inputs, a pure computation, ``None`` when a question
cannot be scored (so averages never count it as 0)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag_service.answer.citations import MARKER, numbers, states
from rag_service.desk.analytics import percentile as percentile  # one implementation for the service and rag-eval


@dataclass(frozen=True)
class MetricResult:
    value: float | None
    reason: str = ""


class HitAtK:
    """1 when any gold document is among the first k retrieved documents."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.name = f"hit@{k}"

    def score(self, retrieved_doc_ids: Sequence[str], gold: Sequence[str]) -> MetricResult:
        if not gold:
            return MetricResult(None, "no gold documents")
        top = _dedupe(retrieved_doc_ids)[: self.k]
        return MetricResult(float(any(d in gold for d in top)))


class RecallAtK:
    """Share of the gold documents found among the first k retrieved documents."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.name = f"recall@{k}"

    def score(self, retrieved_doc_ids: Sequence[str], gold: Sequence[str]) -> MetricResult:
        if not gold:
            return MetricResult(None, "no gold documents")
        top = set(_dedupe(retrieved_doc_ids)[: self.k])
        return MetricResult(sum(g in top for g in set(gold)) / len(set(gold)))


class MRR:
    """Reciprocal rank of the first gold document among distinct retrieved documents (0 if absent)."""

    name = "mrr"

    def score(self, retrieved_doc_ids: Sequence[str], gold: Sequence[str]) -> MetricResult:
        if not gold:
            return MetricResult(None, "no gold documents")
        for rank, doc in enumerate(_dedupe(retrieved_doc_ids), 1):
            if doc in gold:
                return MetricResult(1.0 / rank)
        return MetricResult(0.0)


def _dedupe(doc_ids: Sequence[str]) -> list[str]:
    """Documents in first-seen order: several chunks of one document count once."""
    seen: dict[str, None] = {}
    for d in doc_ids:
        seen.setdefault(d, None)
    return list(seen)


def mean(values: Sequence[float | None]) -> float | None:
    scored = [v for v in values if v is not None]
    return sum(scored) / len(scored) if scored else None


# ---------------------------------------------------------------- behaviour
REFUSING = ("refuse", "handoff")


class ActionAccuracy:
    """The action a question of this type should get: answerable → answer, unanswerable → refuse or
    handoff, handoff → handoff; adversarial questions are judged by their own gold action when given."""

    name = "action_accuracy"

    def score(self, qtype: str, action: str, expected: str | None = None) -> MetricResult:
        want = expected or {"answerable": "answer", "unanswerable": "refuse", "handoff": "handoff"}.get(qtype)
        if want is None:
            return MetricResult(None, f"no expected action for type {qtype!r}")
        ok = action == want or (want == "refuse" and action in REFUSING)
        return MetricResult(float(ok), f"expected {want}, got {action}")


class FalseRefusal:
    """An answerable question that was refused or handed off (lower is better)."""

    name = "false_refusal_rate"

    def score(self, qtype: str, action: str) -> MetricResult:
        if qtype != "answerable":
            return MetricResult(None)
        return MetricResult(float(action in REFUSING))


class CorrectRefusal:
    """An unanswerable question that was refused or handed off, not answered."""

    name = "correct_refusal_rate"

    def score(self, qtype: str, action: str) -> MetricResult:
        if qtype != "unanswerable":
            return MetricResult(None)
        return MetricResult(float(action in REFUSING))


class HandoffRecall:
    """A question that needs a human got ``handoff``."""

    name = "handoff_recall"

    def score(self, qtype: str, action: str) -> MetricResult:
        if qtype != "handoff":
            return MetricResult(None)
        return MetricResult(float(action == "handoff"))


class WrongAnswer:
    """An answer that should not have been given as it was, decided without a judge: an answer to
    an unanswerable question, or to an answerable one that states none of its key facts. Over
    answered responses only (lower is better); checks the judge-based hallucination rate."""

    name = "wrong_answer_rate"

    def score(self, qtype: str, action: str, key_facts: Sequence[str], answer: str) -> MetricResult:
        if action != "answer" or qtype not in ("answerable", "unanswerable"):
            return MetricResult(None)
        if qtype == "unanswerable":
            return MetricResult(1.0, "answered an unanswerable question")
        if not key_facts:
            return MetricResult(None)
        return MetricResult(float(not any(fact_found(f, answer) for f in key_facts)))


# ---------------------------------------------------------------- correctness
_WORDS = re.compile(r"[^\W\d_]{3,}", re.UNICODE)


def fact_found(fact: str, answer: str) -> bool:
    """A key fact is in the answer when all its numbers are, with a unit of the fact's kind if it has
    one ("9,90 €" = "€9.90", "3 Werktagen" = "3 working days", not "3 Monate") or, for a fact without
    numbers, when its words are (case-insensitive). Citation markers are not numbers: "[1]" does not
    state "1 Stunde"."""
    if numbers(fact):
        return states(MARKER.sub(" ", answer), fact)
    words = [w.lower() for w in _WORDS.findall(fact)]
    low = answer.lower()
    return bool(words) and all(w in low for w in words)


class KeyFactRecall:
    """Share of the gold key facts stated in an *answered* response (a refusal scores 0)."""

    name = "key_fact_recall"

    def score(self, key_facts: Sequence[str], answer: str, action: str) -> MetricResult:
        if not key_facts:
            return MetricResult(None, "no key facts")
        if action != "answer":
            return MetricResult(0.0, f"not answered ({action})")
        found = [f for f in key_facts if fact_found(f, answer)]
        return MetricResult(len(found) / len(key_facts), f"found {found} of {list(key_facts)}")


class AnsweredFromGold:
    """An answerable question answered with a citation of one of its gold documents: the judge-free
    accuracy proxy for sets that name the right document but no key facts (faq_de, covidqa). A
    refusal scores 0, so a service cannot raise it by answering less."""

    name = "answered_from_gold"

    def score(self, qtype: str, action: str, cited_doc_ids: Sequence[str], gold: Sequence[str]) -> MetricResult:
        if qtype != "answerable" or not gold:
            return MetricResult(None)
        if action != "answer":
            return MetricResult(0.0, f"not answered ({action})")
        return MetricResult(float(any(d in gold for d in cited_doc_ids)))


# ---------------------------------------------------------------- aggregation helpers
def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """95% Wilson score interval of a proportion; None without observations."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def detection_report(labels: Sequence[int], scores: Sequence[float], threshold: float) -> dict[str, float | int | None]:
    """How well a judge flags unsupported claims. ``labels``: 1 = supported, 0 = unsupported;
    a claim is flagged when its score is below ``threshold``. The positive class is *unsupported*."""
    tp = sum(1 for y, s in zip(labels, scores, strict=True) if y == 0 and s < threshold)
    fn = sum(1 for y, s in zip(labels, scores, strict=True) if y == 0 and s >= threshold)
    fp = sum(1 for y, s in zip(labels, scores, strict=True) if y == 1 and s < threshold)
    tn = sum(1 for y, s in zip(labels, scores, strict=True) if y == 1 and s >= threshold)
    recall_unsup = tp / (tp + fn) if tp + fn else None
    recall_sup = tn / (tn + fp) if tn + fp else None
    balanced = (recall_unsup + recall_sup) / 2 if recall_unsup is not None and recall_sup is not None else None
    return {
        "n": len(labels),
        "threshold": threshold,
        "balanced_accuracy": balanced,
        "precision_unsupported": tp / (tp + fp) if tp + fp else None,
        "recall_unsupported": recall_unsup,
        "tp": tp,
        "fn": fn,
        "fp": fp,
        "tn": tn,
    }


def difference_interval(p1: float, n1: int, p2: float, n2: int) -> tuple[float, float] | None:
    """95% interval of p2 − p1 for two independent proportions (Newcombe's hybrid score method,
    built from the two Wilson intervals), so `rag-eval compare` can say whether a change is noise."""
    a, b = wilson(p1 * n1, n1), wilson(p2 * n2, n2)
    if a is None or b is None:
        return None
    (l1, u1), (l2, u2) = a, b
    d = p2 - p1
    return d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2), d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
