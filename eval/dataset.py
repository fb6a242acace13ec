"""Eval datasets: JSON Lines, one question a line, in the schema of DESIGN.md."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    type: str = "answerable"
    language: str = "en"
    ground_truth: str | None = None
    key_facts: list[str] = field(default_factory=list)
    doc_ids: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # earlier turns of the conversation ({"role": "user"|"assistant", "content": ...}): a follow-up
    # question is asked after them, as a customer would in a chat
    history: list[dict[str, str]] = field(default_factory=list)


def load_questions(path: Path) -> list[Question]:
    """Read a dataset; a malformed line is an error naming the file and line, not a silent skip."""
    known = {"id", "question", "type", "language", "ground_truth", "key_facts", "doc_ids", "history"}
    questions = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                questions.append(
                    Question(
                        id=str(row["id"]),
                        question=str(row["question"]),
                        type=str(row.get("type") or "answerable"),
                        language=str(row.get("language") or row.get("lang") or "en"),
                        ground_truth=row.get("ground_truth"),
                        key_facts=list(row.get("key_facts") or []),
                        doc_ids=list(row.get("doc_ids") or []),
                        extra={k: v for k, v in row.items() if k not in known},
                        history=_history(row.get("history")),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: not a valid question ({exc})") from exc
    return questions


def _history(value: Any) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError("history must be a list of {role, content} objects")
    turns = []
    for turn in value:
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant"):
            raise TypeError("each history turn needs role 'user' or 'assistant'")
        if not isinstance(turn.get("content"), str) or not turn["content"].strip():
            raise TypeError("each history turn needs a non-empty content string")
        turns.append({"role": turn["role"], "content": turn["content"]})
    return turns
