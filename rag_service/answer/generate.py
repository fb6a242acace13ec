"""Stage 4, generate: the answer's text, as a stream the check stage reads sentence by sentence.

``answer_mode=quote`` (the default): the selected units of the passages, verbatim, each sentence
citing its passage; units written in the other language are translated by the model in one call
(numbered lines, so every line keeps its citation). No model call when the customer's language is
the articles' language.

``answer_mode=generate``: the model writes the answer from the whole passages in one call (for a
model stronger than the default 1.5B one). The system prompt is fixed (it stays in the KV cache);
the passages come next, best last (the small model leans on what it read last), then the question.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from .. import prompts
from ..desk.conversations import Turn
from ..index.retrieval import Passage
from ..model.llm import Generator, Message, Usage
from .check import with_marker
from .citations import MARKER, split_sentences
from .retrieve import Quote


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


def _cited(text: str, n: int) -> Iterator[str]:
    """``text`` sentence by sentence, each citing passage ``n`` (1-based), ready to stream."""
    done, rest = split_sentences(text.strip() + "\n")
    for sentence in done + ([rest.strip()] if rest.strip() else []):
        yield with_marker(sentence, n) + " "


def foreign(quotes: Sequence[Quote], passages: Sequence[Passage], language: str) -> list[Quote]:
    """The quotes written in another language than ``language`` (a code): they need translating."""
    return [q for q in quotes if passages[q.passage].chunk.language not in (language, "")]


def quoted(
    quotes: Sequence[Quote],
    passages: Sequence[Passage],
    language: str,
    *,
    generator: Generator,
    usage: Usage,
    max_tokens: int,
) -> Iterator[str]:
    """The quotes in order, each citing its passage; those written in another language than
    ``language`` (a code) come translated, from one model call started when the first is needed."""
    other = foreign(quotes, passages, language)
    lines = _translated_lines(generator, other, language, usage=usage, max_tokens=max_tokens) if other else None
    translations: dict[int, str] = {}
    for quote in quotes:
        if quote not in other:
            yield from _cited(quote.text, quote.passage + 1)
            continue
        at = other.index(quote) + 1
        while at not in translations and lines is not None:
            got = next(lines, None)
            if got is None:
                lines = None
                break
            translations[got[0]] = got[1]
        if at in translations:  # a line the model left out is left out of the answer
            yield from _cited(translations[at], quote.passage + 1)


_LINE = re.compile(r"^\s*(\d{1,2})\s*[.):]\s*(.+)$")


def _numbered(line: str, count: int) -> Iterator[tuple[int, str]]:
    """A translated line and its number; a single line may come back without its number."""
    if m := _LINE.match(line):
        yield int(m.group(1)), m.group(2).strip()
    elif count == 1 and line.strip():
        yield 1, line.strip()


def _translated_lines(
    generator: Generator, quotes: Sequence[Quote], language: str, *, usage: Usage, max_tokens: int
) -> Iterator[tuple[int, str]]:
    """(line number, translation) as the model writes them; the stream closes with the iterator."""
    target = prompts.service_texts(language).language
    numbered = "\n".join(f"{i}. {' '.join(q.text.split())}" for i, q in enumerate(quotes, 1))
    messages: list[Message] = [
        {"role": "system", "content": prompts.template("translate_lines_system.txt").strip()},
        {"role": "user", "content": f"Translate into {target}:\n{numbered}"},
    ]
    stream = generator.stream(messages, max_tokens=max_tokens, temperature=0.0, usage=usage)
    buffer = ""
    try:
        for piece in stream:
            buffer += piece
            while "\n" in buffer:
                line, buffer = buffer.split("\n", 1)
                yield from _numbered(line, len(quotes))
        yield from _numbered(buffer, len(quotes))
    finally:
        stream.close()  # type: ignore[attr-defined]
