"""Retrieval quality of an index on a dataset: hit@k, recall@k and MRR against gold ``doc_ids``,
per search mode. Used to choose the embedder and, later, to tune fusion."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rag_service.index.documents import Hit
from rag_service.index.retrieval import Retriever
from rag_service.index.store import Store

from .dataset import Question
from .metrics import MRR, HitAtK, RecallAtK, mean, percentile

Search = Callable[[str, int], list[Hit]]


@dataclass(frozen=True)
class RetrievalRow:
    id: str
    language: str
    retrieved: list[str]
    gold: list[str]
    hit: float | None
    recall: float | None
    rr: float | None
    ms: float


def searches(store: Store) -> dict[str, Search]:
    def hybrid(weight: float) -> Search:
        retriever = Retriever(store, top_k=10, floor=-1.0, lexical_weight=weight)
        return lambda q, k: [Hit(p.chunk, p.fused) for p in retriever.retrieve([q], top_k=k, audience=None)]

    return {
        "dense": lambda q, k: store.dense_search(q, k=k, audience=None),
        "lexical": lambda q, k: store.lexical_search(q, k=k, audience=None),
        "hybrid": hybrid(0.25),
        "hybrid-0.5": hybrid(0.5),
        "hybrid-1.0": hybrid(1.0),
    }


def evaluate(search: Search, questions: Sequence[Question], *, k: int, depth: int = 50) -> list[RetrievalRow]:
    """Rank chunks ``depth`` deep so MRR sees documents beyond k; hit/recall use the first k documents."""
    hit, recall, mrr = HitAtK(k), RecallAtK(k), MRR()
    rows = []
    for q in questions:
        if not q.doc_ids:
            continue
        started = time.perf_counter()
        hits = search(q.question, depth)
        ms = (time.perf_counter() - started) * 1000
        docs = [h.chunk.doc_id for h in hits]
        rows.append(
            RetrievalRow(
                q.id,
                q.language,
                docs,
                q.doc_ids,
                hit.score(docs, q.doc_ids).value,
                recall.score(docs, q.doc_ids).value,
                mrr.score(docs, q.doc_ids).value,
                ms,
            )
        )
    return rows


def summarise(rows: Sequence[RetrievalRow], k: int) -> dict[str, float | int | None]:
    return {
        "n": len(rows),
        f"hit@{k}": mean([r.hit for r in rows]),
        f"recall@{k}": mean([r.recall for r in rows]),
        "mrr": mean([r.rr for r in rows]),
        "query_ms_p50": percentile([r.ms for r in rows], 50),
    }
