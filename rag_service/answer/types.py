"""The records that travel along the answer path (``rag_service/answer/pipeline.py``)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from ..desk.conversations import Turn
from ..index.documents import Audience
from ..index.retrieval import Passage

Action = Literal["answer", "refuse", "handoff"]


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    title: str
    source: str
    chunk_id: str
    text: str
    page: int | None


@dataclass(frozen=True)
class Query:
    question: str
    conversation_id: str | None = None
    customer_id: str | None = None
    language: str | None = None
    history: Sequence[Turn] | None = None  # None: read the conversation's recent turns from the store
    audience: Audience = "public"
    disclose: bool = False  # start the first reply of a conversation with the AI disclosure
    answer_id: str | None = None  # the id the answer gets (None: a new one); the chat endpoint names it first


class Timings(dict[str, float]):
    """Milliseconds and model calls per stage: ``<stage>_ms``, ``<stage>_calls``, ``total_ms``."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self[f"{name}_ms"] = self.get(f"{name}_ms", 0.0) + (time.perf_counter() - started) * 1000

    def called(self, stage: str) -> None:
        self[f"{stage}_calls"] = self.get(f"{stage}_calls", 0.0) + 1

    @property
    def model_calls(self) -> int:
        return int(sum(v for k, v in self.items() if k.endswith("_calls")))


@dataclass
class AnswerResult:
    id: str
    conversation_id: str
    action: Action
    reason: str | None
    answer: str
    language: str
    citations: list[Citation]
    disclosure: str | None = None
    ai_generated: bool = True
    timings: Timings = field(default_factory=Timings)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    passages: list[Passage] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # generated sentences withheld as unsupported
    grounding: list[dict[str, Any]] = field(default_factory=list)  # the check's verdict per sentence
    handoff_id: str | None = None  # the handoff record a person picks up
    confidence: float | None = None  # the model's probability that the quoted sentences answer the question


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Done:
    result: AnswerResult


Event = TextDelta | Done
