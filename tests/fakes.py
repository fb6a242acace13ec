"""Typed fakes of the core's interfaces: they script replies and record calls."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from rag_service.model.llm import Gate, Message, Usage


class FakeGenerator:
    """Replies with scripted texts, streamed in small pieces like a real model; records every prompt.
    Shares the real backends' Gate, so queueing behaves as in production."""

    name = "fake"

    def __init__(self, *replies: str, max_waiting: int = 4) -> None:
        self.replies = list(replies)
        self.calls: list[list[Message]] = []
        self.gate = Gate(max_waiting, retry_after_s=3)
        self.release = threading.Event()
        self.release.set()  # tests clear it to hold the model busy
        self.entered = threading.Event()
        self.closed = 0
        # the guard's judged check: P(YES) for a verification prompt; tests replace it
        self.support: Callable[[str], float] = lambda prompt: 1.0
        self.checks: list[str] = []

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, usage: Usage
    ) -> Iterator[str]:
        self.calls.append(list(messages))
        reply = self.replies.pop(0) if self.replies else "NO_ANSWER"
        usage.prompt_tokens = sum(len(m["content"].split()) for m in messages)
        self.gate.enter()
        try:
            self.entered.set()
            self.release.wait(10)
            usage.first_token_s = 0.0
            for i in range(0, len(reply), 7):
                usage.completion_tokens += 1
                yield reply[i : i + 7]
        finally:
            self.closed += 1
            self.gate.leave()

    def yes_probability(self, messages: Sequence[Message]) -> float:
        prompt = messages[-1]["content"]
        self.checks.append(prompt)
        return self.support(prompt)

    @property
    def user_prompts(self) -> list[str]:
        return [m["content"] for call in self.calls for m in call if m["role"] == "user"]

    @property
    def system_prompts(self) -> list[str]:
        return [m["content"] for call in self.calls for m in call if m["role"] == "system"]


class FakeJudge:
    """Supports a claim when every listed word of the claim occurs in the context (case-insensitive);
    records its calls. ``fail_on`` makes it raise for claims containing that text."""

    name = "fake-judge"

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail_on = fail_on

    def support(self, context: str, claim: str) -> float:
        self.calls.append((context, claim))
        if self.fail_on and self.fail_on in claim:
            raise RuntimeError("judge crashed")
        words = [w for w in claim.lower().replace(".", " ").replace(",", " ").split() if len(w) > 3]
        return 1.0 if all(w in context.lower() for w in words) else 0.0


class ScriptedChat:
    """An OpenAI chat backend that replies with the queued message contents in order (then with
    ``default``); records the request bodies. Stands in for ``LlamaJudge.chat``."""

    name = "scripted-chat"

    def __init__(self, replies: list[str], default: str = "not json") -> None:
        self.replies = list(replies)
        self.default = default
        self.bodies: list[dict[str, Any]] = []

    def support(self, context: str, claim: str) -> float:
        return 1.0

    def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        self.bodies.append(body)
        content = self.replies.pop(0) if self.replies else self.default
        return {
            "id": f"chatcmpl-{len(self.bodies)}",
            "object": "chat.completion",
            "created": 0,
            "model": "scripted",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }


class WorkerFake:
    """A model for the supervised worker process (``WorkerSpec(factory="tests.fakes:WorkerFake")``):
    streams ``reply`` slowly, writes each prompt's last message to ``marker`` (so a test knows the
    child is busy), sleeps forever on a prompt containing ``hang_on``, and dies by ``die_on_start``
    (a signal number) while it is being built, like a llama.cpp build that does not fit the CPU."""

    name = "worker-fake"

    def __init__(
        self,
        reply: str = "OK",
        *,
        delay_s: float = 0.0,
        marker: str | None = None,
        hang_on: str | None = None,
        die_on_start: int | None = None,
        support: float = 1.0,
    ) -> None:
        if die_on_start is not None:
            import os

            os.kill(os.getpid(), die_on_start)
        self.reply, self.delay_s, self.marker, self.hang_on, self.support = reply, delay_s, marker, hang_on, support

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int, temperature: float, usage: Usage
    ) -> Iterator[str]:
        import time

        text = messages[-1]["content"]
        if self.marker:
            with open(self.marker, "a", encoding="utf-8") as f:
                f.write(" ".join(text.split()) + "\n")
        if self.hang_on and self.hang_on in text:
            time.sleep(3600)
        usage.prompt_tokens = sum(len(m["content"].split()) for m in messages)
        for i in range(0, min(len(self.reply), 7 * max_tokens), 7):
            time.sleep(self.delay_s)
            usage.completion_tokens += 1
            yield self.reply[i : i + 7]

    def yes_probability(self, messages: Sequence[Message]) -> float:
        return self.support
