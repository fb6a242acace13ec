"""Measures the pipeline's handoff detectors (``rag_service.answer.route``) on labelled customer messages.

A message is a JSON line ``{"id", "text", "language", "human", "frustrated", "account"}``; the
three labels are independent (a message can be angry, ask for a person and need the account).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag_service.answer.route import LABELS, Router


@dataclass(frozen=True)
class Message:
    id: str
    text: str
    language: str
    labels: dict[str, bool]


def load_messages(path: Path) -> list[Message]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                Message(str(row["id"]), str(row["text"]), str(row["language"]), {k: bool(row[k]) for k in LABELS})
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a labelled message ({exc})") from exc
    return out


def _figures(gold: Sequence[bool], found: Sequence[bool]) -> dict[str, Any]:
    tp = sum(g and f for g, f in zip(gold, found, strict=True))
    fp = sum(f and not g for g, f in zip(gold, found, strict=True))
    fn = sum(g and not f for g, f in zip(gold, found, strict=True))
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    f1 = 2 * precision * recall / (precision + recall) if precision and recall else None
    return {
        "n": len(gold),
        "positives": sum(gold),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def evaluate(messages: Sequence[Message], detector: Router) -> dict[str, Any]:
    """Per label, per language and over all: precision, recall, F1 and counts; plus every error."""
    report: dict[str, Any] = {"errors": []}
    predictions = {m.id: detector.labels(m.text) for m in messages}
    for label in LABELS:
        report[label] = {}
        for language in [*sorted({m.language for m in messages}), "all"]:
            subset = [m for m in messages if language in ("all", m.language)]
            gold = [m.labels[label] for m in subset]
            found = [predictions[m.id][label] for m in subset]
            report[label][language] = _figures(gold, found)
        for m in messages:
            gold_label, found_label = m.labels[label], predictions[m.id][label]
            if gold_label != found_label:
                kind = "missed" if gold_label else "false alarm"
                report["errors"].append({"id": m.id, "label": label, "kind": kind, "text": m.text})
    return report
