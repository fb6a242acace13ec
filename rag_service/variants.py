"""Variants: near-identical help articles for different customer segments ("Kündigung für
Privatkunden" / "Kündigung für Geschäftskunden"). A 1.5B model given both answers from one and
never says which (measured: 12 of 12 ambiguous questions answered for one variant only); a customer
who gets the business notice period instead of the private one has been misinformed with a citation.
The pipeline uses this to give each variant's answer, labelled, when the question names no segment.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Sequence
from functools import cache, lru_cache

from . import prompts
from .citations import MARKER, figures, numbers, with_digits
from .lexical import tokenize
from .verify import EMAIL


@cache
def _segments() -> dict[str, tuple[str, ...]]:
    data = tomllib.loads(prompts.template("segments.toml"))
    return {name: tuple(stems) for name, stems in data.items()}


def segments(text: str) -> frozenset[str]:
    """The segment classes ``text`` names ("Tarife für Geschäftskunden" → {"business"})."""
    words = tokenize(text)
    return frozenset(name for name, stems in _segments().items() if any(w.startswith(s) for w in words for s in stems))


def is_variant(title: str, other: str, question: str, titles: Sequence[str]) -> bool:
    """Whether the article ``other`` is a variant of ``title`` that the customer did not choose
    between: the titles name different segments (one may name none: "Mobilfunk-Tarife" beside
    "Tarife für Geschäftskunden"), share a topic word few titles of the knowledge base have (not
    the company name), and the question names no segment."""
    mine, theirs = segments(title), segments(other)
    if mine == theirs or segments(question):
        return False  # same segment, or the customer said which one they mean
    frequency = _title_words(tuple(titles))
    rare = max(2, len(titles) // 5)
    shared = set(tokenize(title)) & set(tokenize(other))
    return any(frequency[w] <= rare for w in shared)


@lru_cache(maxsize=2)
def _title_words(titles: tuple[str, ...]) -> Counter[str]:
    """In how many titles each word occurs; the titles change only with ingestion."""
    return Counter(w for t in titles for w in set(tokenize(t)))


def same_topic(section: str, other: str) -> bool:
    """Whether two sections are about the same thing ("Kündigungsfrist" in both articles, "Übersicht
    der Tarife" / "Tarife für Geschäftskunden"): asked a question its section does not answer
    ("extra data" of the business price table), the model took another price from it."""
    return section == other or bool(set(tokenize(section)) & set(tokenize(other)))


def differs(answer: str, other: str) -> bool:
    """Whether ``other`` says something ``answer`` does not: a figure of its own (amount, number,
    e-mail address), or, when it states no figure, mostly other words. Two variants that agree
    ("Kündigung per E-Mail" in both) need no second answer."""
    mine, theirs = _figures(answer), _figures(other)
    if theirs:
        return not theirs <= mine
    words, own = set(tokenize(other)), set(tokenize(answer))
    return len(words - own) > len(words) / 2


def _figures(text: str) -> set[str]:
    stated = [numbers(with_digits(f)) for f in figures(MARKER.sub("", text))]
    return set().union(*stated) | {e.lower() for e in EMAIL.findall(text)}
