"""How well ``rag_service.pii`` finds personal data: recall and precision per entity type and
language on a labelled set (``eval/pii/messages.jsonl``: each entity by its text, in the order it
appears).

A labelled entity is *found* when a prediction of its type covers at least half of its characters,
and *redacted* when a prediction of any type does (what matters for privacy); a prediction is
*right* when at least half of it lies in a labelled entity of its type. Odd-numbered messages are
the dev half, even-numbered ones the test half.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag_service.pii import ENTITIES, Found, Redactor


@dataclass(frozen=True)
class Labelled:
    type: str
    start: int
    end: int


def load(path: Path, split: str = "all") -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if split == "all":
        return rows
    want = 1 if split == "dev" else 0
    return [r for r in rows if int(str(r["id"]).rsplit("-", 1)[-1]) % 2 == want]


def spans(row: dict[str, Any]) -> list[Labelled]:
    """The labelled entities with their offsets (each found after the one before it, if it can be)."""
    text, out, cursor = row["text"], [], 0
    for e in row["entities"]:
        start = text.find(e["text"], cursor)
        if start < 0:
            start = text.find(e["text"])
        if start < 0:
            raise ValueError(f"{row['id']}: {e['text']!r} is not in the text")
        out.append(Labelled(e["type"], start, start + len(e["text"])))
        cursor = start + len(e["text"])
    return out


def _overlap(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def score(rows: list[dict[str, Any]], predicted: list[list[Found]]) -> dict[str, Any]:
    """Counts and rates per (type, language) and per type over both languages."""
    c: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    errors: list[dict[str, Any]] = []
    for row, found in zip(rows, predicted, strict=True):
        gold = spans(row)
        for lang in (row["language"], "all"):
            for g in gold:
                size = g.end - g.start
                same = any(f.type == g.type and _overlap(f.start, f.end, g.start, g.end) * 2 >= size for f in found)
                hidden = any(_overlap(f.start, f.end, g.start, g.end) * 2 >= size for f in found)
                cell = c[(g.type, lang)]
                cell["labelled"] += 1
                cell["found"] += same
                cell["redacted"] += hidden
                if not same and lang == "all":
                    errors.append({"id": row["id"], "missed": g.type, "text": row["text"][g.start : g.end]})
            for f in found:
                right = any(
                    g.type == f.type and _overlap(f.start, f.end, g.start, g.end) * 2 >= f.end - f.start for g in gold
                )
                cell = c[(f.type, lang)]
                cell["predicted"] += 1
                cell["right"] += right
                if not right and lang == "all":
                    errors.append({"id": row["id"], "wrong": f.type, "text": f.text})
    table: dict[str, dict[str, Any]] = {}
    for (kind, lang), cell in sorted(c.items()):
        table[f"{kind}/{lang}"] = {
            **cell,
            "recall": cell["found"] / cell["labelled"] if cell["labelled"] else None,
            "redacted": cell["redacted"] / cell["labelled"] if cell["labelled"] else None,
            "precision": cell["right"] / cell["predicted"] if cell["predicted"] else None,
        }
    return {"table": table, "errors": errors, "messages": len(rows), "types": list(ENTITIES)}


def evaluate(path: Path, split: str = "all") -> dict[str, Any]:
    rows = load(path, split)
    redactor = Redactor()
    return score(rows, [redactor.find(r["text"]) for r in rows])
