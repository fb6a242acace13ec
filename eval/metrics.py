"""Metrics, one small class each: explicit inputs, a pure computation, ``None`` when a question
cannot be scored (so averages never count it as 0)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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
