"""Stage 1, understand: the question's language, what it asks once the conversation is taken into
account, and the searches that find its passages.

A follow-up ("und für Geschäftskunden?") is rewritten by the model into a standalone question (one
call, only when the conversation has an earlier question), and the question is translated into the
other language (one short call): the small multilingual embedder ranks passages in the question's
own language first and rarely finds the article written in the other one without it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .. import prompts
from ..desk.conversations import Turn
from ..language import detect_language
from ..model.llm import Generator, Message, Usage
from .citations import MARKER
from .route import speaks_of_own
from .types import Timings

NO_ANSWER = "NO_ANSWER"


@dataclass(frozen=True)
class Understanding:
    question: str  # the customer's words
    asked: str  # what is asked: the standalone rewrite of a follow-up, else the question
    language: str
    queries: tuple[str, ...]  # searches, the first one decides the relevance floor
    follow_up: bool  # asked was rewritten from the conversation


def short_reply(generator: Generator, messages: list[Message], max_tokens: int = 60) -> str:
    """A short, greedy side call on the model, as one line."""
    stream = generator.stream(messages, max_tokens=max_tokens, temperature=0.0, usage=Usage())
    try:
        return " ".join("".join(stream).split())
    finally:
        stream.close()  # type: ignore[attr-defined]


def language_of(question: str, hint: str | None, history: Sequence[Turn]) -> str:
    """The customer's language: given, else detected, falling back on their earlier messages."""
    if hint:
        return hint
    earlier = next((t.content for t in reversed(history) if t.role == "user"), None)
    return detect_language(question, default=detect_language(earlier, default="en") if earlier else "en")


def standalone(generator: Generator, question: str, history: Sequence[Turn]) -> str | None:
    """The follow-up rewritten so that it stands alone, after worked examples given as chat turns (a
    fixed prefix: KV-cached). None when the model returns nothing usable (then the follow-up is
    searched together with the previous question)."""
    lines = []
    for turn in history[-4:]:
        who = "Customer" if turn.role == "user" else "Assistant"
        lines.append(f"{who}: {MARKER.sub('', turn.content)[:300].strip()}")
    messages: list[Message] = [{"role": "system", "content": prompts.template("rewrite_system.txt").strip()}]
    for e in prompts.rewrite_examples():
        messages += [
            {"role": "user", "content": f"Conversation:\n{e['conversation']}\nFollow-up: {e['follow_up']}"},
            {"role": "assistant", "content": e["standalone"]},
        ]
    messages.append({"role": "user", "content": "Conversation:\n" + "\n".join(lines) + f"\nFollow-up: {question}"})
    text = re.sub(r"^(standalone question|question|frage)\s*:\s*", "", short_reply(generator, messages), flags=re.I)
    limit = 2 * len(question) + max((len(t.content) for t in history if t.role == "user"), default=0) + 40
    if not re.search(r"\w{2,}", text) or NO_ANSWER in text or len(text) > limit:
        return None
    if question.rstrip().endswith("?") and not text.endswith("?"):
        return None  # the model answered instead of asking
    return text


def translated(generator: Generator, question: str, language: str) -> str | None:
    """``question`` in the other of German and English, by the model; None when unusable."""
    target = "English" if language == "de" else "German"
    text = short_reply(
        generator,
        [
            {"role": "system", "content": prompts.template("translate_system.txt").strip()},
            {"role": "user", "content": f"Translate into {target}:\n{question}"},
        ],
        max_tokens=100,
    )
    return text if text and NO_ANSWER not in text and len(text) <= 3 * len(question) + 40 else None


def understand(
    question: str,
    *,
    history: Sequence[Turn],
    language: str,
    generator: Generator,
    rewrite: bool,
    translate: bool,
    plan: str | None,
    timings: Timings,
) -> Understanding:
    previous = next((t.content for t in reversed(history) if t.role == "user"), None)
    asked = None
    if previous is not None and rewrite:
        timings.called("understand")
        asked = standalone(generator, question, history)
    queries = [asked] if asked else [question] + ([f"{previous} {question}"] if previous else [])
    if translate:
        timings.called("understand")
        other = translated(generator, asked or question, language)
        queries += [other] if other else []
    if plan and speaks_of_own(question):  # "what does my plan include?": search for their plan
        queries[0] = f"{queries[0]} ({plan})"
    return Understanding(question, asked or question, language, tuple(queries), asked is not None)
