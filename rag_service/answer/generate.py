"""Stage 4, generate: one model call over a short prompt. The system prompt is fixed (it stays in
the KV cache); the passages come next, best last (the small model leans on what it read last), then
the question, so a follow-up on the same passages reuses their prefix too."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .. import prompts
from ..desk.conversations import Turn
from ..index.retrieval import Passage
from ..model.llm import Generator, Message, Usage
from .citations import MARKER


def format_passages(passages: Sequence[Passage]) -> str:
    return "\n\n".join(f"[{i}] {p.chunk.text}" for i, p in enumerate(passages, 1))


def answer_messages(
    question: str, passages: Sequence[Passage], language: str, *, history: Sequence[Turn] = (), plan: str | None = None
) -> list[Message]:
    """The answer prompt over ``passages`` as numbered; ``language`` is its English name."""
    lines = [f"The customer's plan: {plan}"] if plan else []
    for turn in history:
        who = "customer" if turn.role == "user" else "assistant"
        lines.append(f"Earlier {who} message: {MARKER.sub('', turn.content)[:400]}")
    user = prompts.template("answer_user.txt").format(
        passages=format_passages(passages),
        history="".join(f"{line}\n" for line in lines),
        question=question,
        language=language,
    )
    return [
        {"role": "system", "content": prompts.template("answer_system.txt").strip()},
        {"role": "user", "content": user},
    ]


def generate(
    generator: Generator, messages: list[Message], *, max_tokens: int, temperature: float, usage: Usage
) -> Iterator[str]:
    """The model's text as it streams; closing the iterator stops the model."""
    stream = generator.stream(messages, max_tokens=max_tokens, temperature=temperature, usage=usage)
    try:
        yield from stream
    finally:
        stream.close()  # type: ignore[attr-defined]
