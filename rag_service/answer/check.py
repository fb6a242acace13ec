"""Stage 5, check: every sentence of the model's answer against the passages it cites, before the
customer sees it. Exact checks, no model call: every amount, number, percentage, phone number,
e-mail address, URL and product-like name ("XL", "5G") of a sentence must be in a passage it cites
(normalised: "9,90 €" = "9.90 EUR"); a sentence without a citation is attributed to the passage
that holds all its figures, or removed; a sentence that only repeats the customer's question is
removed. A false premise needs nothing special: the passage's figure is the only one that passes.

A quoted answer (``answer_mode=quote``) is decided once before it is sent: ``answered`` asks the
model whether the quoted sentences answer the question at all (one forward pass over a short
prompt, no text written); below ``RAG_ANSWER_THRESHOLD`` the question is refused.

One judged pass (``judged``, ``RAG_GUARD_JUDGE``) asks the model once whether the cited passages
support the whole answer. It is off by default: it would be a third model call per question, and
whether it stops more wrong answers than it removes right ones on the suite is not measured yet.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

from .. import prompts
from ..errors import BackendUnavailable
from ..index.lexical import tokenize
from ..model.llm import Message, Overloaded, YesNo
from .citations import FREE, MARKER, NAME, marker_numbers, quantities, split_sentences, with_digits

log = logging.getLogger(__name__)
NO_ANSWER = "NO_ANSWER"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]]+", re.IGNORECASE)
_PHONE = re.compile(r"(?<![\w.,])\+?\(?\d[\d ()/-]{6,}\d(?![\w.,]\d)")
# units and currencies a sentence may write differently from the passage ("EUR" for "€")
_ALWAYS_OK = {"EUR", "USD", "CHF", "GBP", "GB", "MB", "KB", "TB", "KI", "AI", "OK", "FAQ", "PDF", "DE", "EN"}


@dataclass(frozen=True)
class SentenceCheck:
    text: str  # as the model wrote it (prompt passage numbers), with the marker the check added
    cited: tuple[int, ...]  # prompt passage numbers (1-based)
    supported: bool
    problems: tuple[str, ...] = ()
    factual: bool = True  # False: a question back or a courtesy; needs no source


def cited_numbers(sentence: str) -> tuple[int, ...]:
    return tuple(dict.fromkeys(n for m in MARKER.finditer(sentence) for n in marker_numbers(m)))


def bare(text: str) -> str:
    return MARKER.sub("", text).strip()


def states_facts(text: str) -> bool:
    """A question back to the customer or a short courtesy ("Gern geschehen.") states nothing."""
    b = bare(text)
    return not b.endswith("?") and (len(b.split()) >= 3 or bool(re.search(r"\d", b)))


def echoes(sentence: str, question: str, sources: Sequence[str]) -> bool:
    """The customer's question (or their story) said back: nearly all its words are the question's
    and it takes no word or number from the passages that the question does not have ("Die
    Ersatzkarte kostet 14,95 €." for "Was kostet die Ersatzkarte?" adds "14,95": an answer)."""
    words = tokenize(bare(sentence))
    if len(words) < 3:
        return False
    asked = set(tokenize(question))
    from_passages = set(tokenize("\n".join(sources))) - asked
    return sum(w in asked for w in words) >= 0.8 * len(words) and not set(words) & from_passages


@cache
def _instruction_pairs() -> frozenset[tuple[str, str]]:
    words = re.findall(r"\w+", prompts.instructions().lower())
    return frozenset(itertools.pairwise(words))


def recites_instructions(sentence: str) -> bool:
    """Most of the sentence's word pairs come from the model's own prompts: a customer (or an
    article) talked the model into revealing its instructions. Help articles do not read like them."""
    words = re.findall(r"\w+", bare(sentence).lower())
    pairs = list(itertools.pairwise(words))
    return len(pairs) >= 4 and sum(p in _instruction_pairs() for p in pairs) >= 0.6 * len(pairs)


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _url_key(url: str) -> str:
    return re.sub(r"^(?:https?://)?(?:www\.)?", "", url.lower()).rstrip("/.,;")


def exact_problems(sentence: str, sources: Sequence[str], question: str = "") -> list[str]:
    """What the sentence states that none of ``sources`` (its cited passages) contains. Names the
    customer used count as known (the answer may repeat them); their numbers do not."""
    text = bare(sentence)
    source = "\n".join(sources)
    lowered = source.lower()
    problems: list[str] = []
    digits = _digits(source)
    for phone in _PHONE.findall(text):
        d = _digits(phone)
        if len(d) < 7:
            continue
        if d not in digits and d.lstrip("0") not in digits:  # other spacing than the passage is fine
            problems.append(f"phone number {phone.strip()} not in the cited passage")
        text = text.replace(phone, " ")
    # the digits of a name the customer wrote ("Home Box 5G") are not a number the passage must state
    named = [n for n in dict.fromkeys(NAME.findall(text)) if n.lower() in question.lower()]
    counted = re.sub(r"\b(?:" + "|".join(map(re.escape, named)) + r")\b", " ", text) if named else text
    unknown = quantities(counted) - quantities(source) - quantities(with_digits(source))
    problems += [f"number {q} not in the cited passage" for q in dict.fromkeys(q.lstrip("€%") for q in sorted(unknown))]
    problems += [f"e-mail {e} not in the cited passage" for e in EMAIL.findall(text) if e.lower() not in lowered]
    urls = {_url_key(u) for u in _URL.findall(source)}
    problems += [
        f"URL {u} not in the cited passage"
        for u in _URL.findall(text)
        if _url_key(u) not in urls and _url_key(u) not in lowered
    ]
    if FREE.search(text) and not FREE.search(source):  # a price of zero is a figure too
        problems.append("says it is free; the cited passage does not")
    known = lowered + "\n" + question.lower()
    for name in dict.fromkeys(NAME.findall(EMAIL.sub(" ", _URL.sub(" ", text)))):
        if name.upper() not in _ALWAYS_OK and not re.fullmatch(r"\d+", name) and name.lower() not in known:
            problems.append(f"name {name} not in the cited passage")
    return problems


def attribute(sentence: str, passages: Sequence[str], question: str = "") -> int | None:
    """The passage (1-based) an uncited sentence most likely comes from: among the passages that
    hold all its figures and names, the one sharing the most words with it (at least two, or a
    number). None when no passage qualifies."""
    words = set(tokenize(bare(sentence)))
    best, best_overlap = None, 0
    for n, passage in enumerate(passages, 1):
        if exact_problems(sentence, [passage], question):
            continue
        shared = words & set(tokenize(passage))
        enough = len(shared) >= 2 or any(any(ch.isdigit() for ch in w) for w in shared)
        if enough and len(shared) > best_overlap:
            best, best_overlap = n, len(shared)
    return best


def with_marker(sentence: str, n: int) -> str:
    """``sentence`` citing passage ``n``, the marker before its final punctuation."""
    body = sentence.rstrip()
    end = body[-1] if body and body[-1] in ".!?" else ""
    return f"{body[: len(body) - len(end)].rstrip()} [{n}]{end}"


def check_sentence(sentence: str, passages: Sequence[str], question: str, *, moves: bool = True) -> SentenceCheck:
    """One sentence as the model wrote it (its [n] markers), against the passages of the prompt.
    ``moves=False``: the citation is known to be right (a quoted sentence, its translation), so a
    sentence whose figures are not in its passage is removed, not re-attributed to another one."""
    cited = tuple(n for n in cited_numbers(sentence) if 1 <= n <= len(passages))
    if not states_facts(sentence):
        return SentenceCheck(sentence, cited, True, factual=False)
    if echoes(sentence, question, [passages[n - 1] for n in cited] or passages):
        return SentenceCheck(sentence, cited, False, ("repeats the customer's question",))
    if recites_instructions(sentence):
        return SentenceCheck(sentence, cited, False, ("repeats the assistant's instructions",))
    if not cited:
        n = attribute(sentence, passages, question)
        if n is None:
            return SentenceCheck(sentence, cited, False, ("states a fact without citing a passage",))
        sentence, cited = with_marker(sentence, n), (n,)
    problems = exact_problems(sentence, [passages[n - 1] for n in cited], question)
    if not problems:
        return SentenceCheck(sentence, cited, True)
    # cited the wrong passage: another one states all of it
    n = attribute(sentence, passages, question) if moves else None
    if n is not None:
        return SentenceCheck(with_marker(bare(sentence), n), (n,), True)
    return SentenceCheck(sentence, cited, False, tuple(problems))


class Sentences:
    """The model's stream as complete sentences; ``no_answer`` once the model wrote the sentinel
    (the stream is then abandoned)."""

    def __init__(self, pieces: Iterator[str]) -> None:  # closed when reading ends
        self.pieces = pieces
        self.no_answer = False

    def __iter__(self) -> Iterator[str]:
        buffer = ""
        try:
            for piece in self.pieces:
                buffer += piece
                if NO_ANSWER in buffer or NO_ANSWER.replace("_", " ") in buffer:
                    self.no_answer = True
                    return
                if NO_ANSWER.startswith(buffer.strip()):
                    continue  # could still become the sentinel
                done, buffer = split_sentences(buffer)
                yield from done
        finally:
            close = getattr(self.pieces, "close", None)
            if callable(close):
                close()  # stops the model (and frees it for the next request) when we stop reading
        if buffer.strip():
            yield buffer.strip()


def judge_messages(passages: Sequence[str], claim: str) -> list[Message]:
    """The judged pass's prompt: the cited passages first, then the claim without its markers."""
    ask = prompts.template("verify_user.txt").format(passages="\n\n".join(passages), sentence=bare(claim))
    return [
        {"role": "system", "content": prompts.template("verify_system.txt").strip()},
        {"role": "user", "content": ask.strip()},
    ]


def judged(judge: YesNo, answer: str, passages: Sequence[str]) -> float:
    """The model's probability that ``passages`` support ``answer`` (one call); 0 when it fails."""
    return _probability(judge, judge_messages(passages, answer))


def _probability(judge: YesNo, messages: list[Message]) -> float:
    try:
        return judge.yes_probability(messages)
    except (BackendUnavailable, Overloaded):
        raise  # the model is down or its queue full: the request fails (503/429), it is not refused
    except Exception:  # a check that cannot run does not pass
        log.exception("yes/no check failed")
        return 0.0


def answered(judge: YesNo, question: str, sentences: Sequence[str]) -> float:
    """The model's probability that ``sentences`` answer ``question`` (one call); 0 when it fails."""
    ask = prompts.template("answered_user.txt").format(
        sentences="\n".join(f"- {' '.join(s.split())}" for s in sentences), question=question
    )
    messages: list[Message] = [
        {"role": "system", "content": prompts.template("answered_system.txt").strip()},
        {"role": "user", "content": ask.strip()},
    ]
    return _probability(judge, messages)
