"""What support leads look at: volume, outcomes, topics, knowledge-base gaps, sources, feedback,
draft acceptance and latency over a date range, computed from the database and the index.

Topics and gaps are clusters of the customers' questions by embedding (the service's own
embedder): greedy single-pass clustering against running centroids, labelled by the question
nearest the centroid. A gap is a cluster of questions the assistant could not answer (refused,
or handed off because it could not: repeated failure, unverifiable answer) — the article to write
next. Handoffs a customer asked for, or that anger or account data caused, are not gaps.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..db import DraftRow, FeedbackRow, MessageRow, utc
from ..index.embeddings import Embedder

GAP_REASONS = {"not_in_knowledge_base", "unsupported_answer", "repeated_failure", "low_confidence"}
MAX_CLUSTERED = 1000  # most recent questions clustered per request; embedding is the cost


@dataclass(frozen=True)
class Exchange:
    question: str
    action: str
    reason: str | None
    day: date
    latency_ms: float | None
    doc_ids: tuple[str, ...]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100); rag-eval uses it too."""
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(k), math.ceil(k)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def exchanges(engine: Engine, since: datetime, until: datetime) -> list[Exchange]:
    """Question/answer pairs whose answer falls in [since, until)."""
    with Session(engine) as s:
        rows = s.scalars(
            select(MessageRow)
            .where(MessageRow.created_at >= since, MessageRow.created_at < until)
            .order_by(MessageRow.id)
        ).all()
    last_question: dict[str, str] = {}
    out = []
    for r in rows:
        if r.role == "user":
            last_question[r.conversation_id] = r.content
            continue
        cited = tuple(dict.fromkeys(c.get("doc_id", "") for c in json.loads(r.citations_json or "[]")))
        out.append(
            Exchange(
                question=last_question.get(r.conversation_id, ""),
                action=r.action or "answer",
                reason=r.reason,
                day=utc(r.created_at).date(),
                latency_ms=r.latency_ms,
                doc_ids=cited,
            )
        )
    return out


def cluster(vectors: Sequence[Sequence[float]], similarity: float) -> list[list[int]]:
    """Indices grouped greedily: each vector joins the most similar centroid at or above
    ``similarity``, or starts a cluster. Vectors are unit length; centroids are re-normalised."""
    sums: list[np.ndarray] = []
    members: list[list[int]] = []
    matrix = np.zeros((0, len(vectors[0]) if vectors else 0), dtype=np.float32)
    for i, row in enumerate(np.asarray(vectors, dtype=np.float32)):
        if len(sums):
            sims = matrix @ row
            best = int(np.argmax(sims))
            if sims[best] >= similarity:
                sums[best] += row
                members[best].append(i)
                matrix[best] = sums[best] / (np.linalg.norm(sums[best]) or 1.0)
                continue
        sums.append(row.copy())
        members.append([i])
        matrix = np.vstack([matrix, row])
    return sorted(members, key=len, reverse=True)


def _clusters(questions: list[str], embedder: Embedder, top: int) -> list[dict[str, Any]]:
    if not questions:
        return []
    questions = questions[-MAX_CLUSTERED:]
    unique = list(dict.fromkeys(q for q in questions if q.strip()))
    if not unique:
        return []
    vectors = np.asarray(embedder.embed_batch(unique, kind="query"), dtype=np.float32)
    counts = Counter(questions)
    # similarity on the embedder's own scale: between its relevance floor and 1
    groups = cluster(vectors.tolist(), embedder.relevance_floor + (1 - embedder.relevance_floor) * 0.45)
    out: list[dict[str, Any]] = []
    for g in groups:
        size = sum(counts[unique[i]] for i in g)
        centroid = vectors[g].sum(axis=0)
        label = g[int(np.argmax(vectors[g] @ centroid))]
        examples = sorted({unique[i] for i in g}, key=lambda q: -counts[q])[:3]
        out.append({"label": unique[label], "count": size, "examples": examples})
    out.sort(key=lambda c: -int(c["count"]))
    return out[:top]


def day_range(since: date | None, until: date | None) -> tuple[datetime, datetime]:
    """[since 00:00, until+1 00:00) in UTC; default the last 30 days."""
    end = until or datetime.now(UTC).date()
    start = since or end - timedelta(days=29)
    return datetime.combine(start, time(), UTC), datetime.combine(end + timedelta(days=1), time(), UTC)


def analytics(
    engine: Engine,
    embedder: Embedder,
    all_doc_ids: Sequence[str],
    since: date | None = None,
    until: date | None = None,
    *,
    top: int = 10,
) -> dict[str, Any]:
    start, end = day_range(since, until)
    rows = exchanges(engine, start, end)
    days: dict[str, Counter[str]] = defaultdict(Counter)
    day = start.date()
    while day < end.date() and (end - start).days <= 366:  # a longer window lists only days with questions
        days[day.isoformat()] = Counter()
        day += timedelta(days=1)
    for r in rows:
        days[r.day.isoformat()][r.action] += 1
    actions = Counter(r.action for r in rows)
    total = len(rows)
    cited = Counter(d for r in rows for d in r.doc_ids if d)
    latencies = [r.latency_ms for r in rows if r.latency_ms is not None and r.action == "answer"]
    with Session(engine) as s:
        feedback = s.execute(
            select(FeedbackRow.rating, FeedbackRow.comment).where(
                FeedbackRow.created_at >= start, FeedbackRow.created_at < end
            )
        ).all()
        drafts = s.scalars(
            select(DraftRow.outcome).where(DraftRow.created_at >= start, DraftRow.created_at < end)
        ).all()
    ratings = Counter(r for r, _ in feedback)
    rated = ratings["up"] + ratings["down"]
    outcomes = Counter(o or "pending" for o in drafts)
    decided = outcomes["sent"] + outcomes["edited"] + outcomes["discarded"]
    return {
        "from": start.date().isoformat(),
        "to": (end.date() - timedelta(days=1)).isoformat(),
        "questions": total,
        "volume_per_day": [
            {"day": d, "total": sum(c.values()), **{a: c[a] for a in ("answer", "refuse", "handoff")}}
            for d, c in sorted(days.items())
        ],
        "rates": {a: (actions[a] / total if total else None) for a in ("answer", "refuse", "handoff")},
        "handoff_reasons": dict(Counter(r.reason or "" for r in rows if r.action == "handoff").most_common()),
        "topics": _clusters([r.question for r in rows], embedder, top),
        "knowledge_gaps": _clusters(
            [r.question for r in rows if r.action != "answer" and r.reason in GAP_REASONS], embedder, top
        ),
        "most_cited": [{"doc_id": d, "count": n} for d, n in cited.most_common(top)],
        "never_cited": sorted(set(all_doc_ids) - set(cited)),
        "feedback": {
            "up": ratings["up"],
            "down": ratings["down"],
            "up_ratio": ratings["up"] / rated if rated else None,
            "recent_down_comments": [c for r, c in feedback if r == "down" and c][-5:],
        },
        "drafts": {
            **{o: outcomes[o] for o in ("sent", "edited", "discarded", "pending")},
            "acceptance": outcomes["sent"] / decided if decided else None,
        },
        "latency_ms": {"p50": percentile(latencies, 50), "p95": percentile(latencies, 95), "n": len(latencies)},
    }
