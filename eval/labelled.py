"""Human-labelled (context, claim, label) data for measuring the judge; loaders for the public sets.

label: 1 = the claim is supported by the context, 0 = it is not."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pair:
    id: str
    context: str
    claim: str
    label: int
    group: str = ""  # e.g. the SummEdits domain, for per-group figures


def load_pairs(path: Path) -> list[Pair]:
    """Recognises SummEdits (document/claim), HaluEval QA (knowledge/question/answer) and our own
    format (context/claim); an unknown row shape is an error naming the line."""
    pairs = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            rid = str(row.get("id", n))
            if "document" in row and "claim" in row:
                pairs.append(Pair(rid, row["document"], row["claim"], int(row["label"]), str(row.get("domain", ""))))
            elif "knowledge" in row and "answer" in row:
                claim = f'The answer to the question "{row["question"]}" is: {row["answer"]}'
                pairs.append(Pair(rid, row["knowledge"], claim, int(row["label"])))
            elif "context" in row and "claim" in row:
                pairs.append(Pair(rid, row["context"], row["claim"], int(row["label"]), str(row.get("group", ""))))
            else:
                raise ValueError(f"{path}:{n}: expected document/claim, knowledge/question/answer or context/claim")
    return pairs
