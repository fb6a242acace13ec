"""Ticket triage measured on labelled tickets (``rag-eval triage``): accuracy and macro-F1 of every
field (category, queue, priority, sentiment, language), overall and per language.

A dataset is JSON Lines, one ticket per line: ``id``, ``subject``, ``body``, ``language``,
``category``, ``priority``, ``sentiment`` and ``split`` (dev or test); the queue is the labelled
category's queue in the taxonomy. The knowledge base the articles come from is indexed afresh from
``--kb`` (articles are reported, not scored: the tickets carry no article labels)."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag_service.answer.route import IntentModel, Router
from rag_service.config import Settings
from rag_service.desk.triage import Taxonomy, Triage
from rag_service.index.embeddings import Embedder
from rag_service.index.retrieval import Retriever
from rag_service.index.store import Store

FIELDS = ("category", "queue", "priority", "sentiment", "language")
REQUIRED = ("id", "subject", "body", "language", "category", "priority", "sentiment", "split")


def load(dataset: Path, split: str) -> list[dict[str, Any]]:
    tickets = []
    for n, line in enumerate(dataset.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            t = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {n} is not JSON ({exc.msg})") from exc
        missing = [k for k in REQUIRED if k not in t]
        if missing:
            raise ValueError(f"line {n} lacks {', '.join(missing)}")
        if split == "all" or t["split"] == split:
            tickets.append(t)
    if not tickets:
        raise ValueError(f"no tickets in split {split!r}")
    return tickets


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Mean F1 over the labels that occur in ``gold``."""
    f1s = []
    for label in sorted(set(gold)):
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s) if f1s else 0.0


def scores(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out = {}
    for f in FIELDS:
        gold = [r["gold"][f] for r in rows]
        got = [r["got"][f] or "-" for r in rows]
        out[f] = {
            "accuracy": sum(g == p for g, p in zip(gold, got, strict=True)) / len(rows),
            "macro_f1": macro_f1(gold, got),
        }
    return out


def evaluate(
    dataset: Path, taxonomy_path: Path, kb: Path, embedder: Embedder, settings: Settings, *, split: str
) -> dict[str, Any]:
    from ingest.pipeline import ingest_paths

    tickets = load(dataset, split)
    taxonomy = Taxonomy.load(taxonomy_path)
    queue_of = {c.name: c.queue for c in taxonomy.categories}
    unknown = sorted({t["category"] for t in tickets} - set(queue_of))
    if unknown:
        raise ValueError(f"labelled categories not in the taxonomy: {', '.join(unknown)}")
    with tempfile.TemporaryDirectory(prefix="rag-triage-") as tmp:
        local = settings.model_copy(update={"data_dir": Path(tmp)})
        store = Store(local, embedder)
        ingest_paths(store, [kb], settings=local)
        triage = Triage(taxonomy, embedder, Retriever.configured(store, local), Router(embedder, IntentModel.load()))
        rows = []
        started = time.perf_counter()
        for t in tickets:
            r = triage.triage(t["subject"], t["body"])
            rows.append(
                {
                    "id": t["id"],
                    "gold": {**{f: t[f] for f in FIELDS if f != "queue"}, "queue": queue_of[t["category"]]},
                    "got": {
                        "category": r.category,
                        "queue": r.queue,
                        "priority": r.priority,
                        "sentiment": r.sentiment,
                        "language": r.language,
                    },
                    "confidence": r.confidence,
                    "articles": [a.doc_id for a in r.articles],
                }
            )
        seconds = time.perf_counter() - started
        store.close()
    by_language = {
        lang: scores([r for r in rows if r["gold"]["language"] == lang])
        for lang in sorted({r["gold"]["language"] for r in rows})
    }
    return {
        "dataset": str(dataset),
        "split": split,
        "tickets": len(rows),
        "ms_per_ticket": 1000 * seconds / len(rows),
        "all": scores(rows),
        "by_language": by_language,
        "rows": rows,
    }
