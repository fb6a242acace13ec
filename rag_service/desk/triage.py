"""Ticket triage: category, priority, language, sentiment, queue and the knowledge-base articles an
agent needs, with a confidence, for a ticket (subject, body, optional customer id).

Cheap first, no model call:

- **category**: the ticket's embedding against the company's taxonomy (``RAG_TRIAGE_TAXONOMY``, a
  TOML file: per category a description per language, a few example tickets, its queue and default
  priority); the score of a category is a soft maximum of its texts' similarities (several close
  texts count more than one), the confidence the softmax of the scores (how clearly one wins).
- **sentiment** and **priority**: how people write, from the language data files
  (``rag_service/lexicon/<lang>.toml``: ``urgent``, ``degraded``, ``deadline``, ``praise``,
  ``negative`` plus the routing patterns for frustration and complaints), and the company's own
  words for no service or bad service from the taxonomy (``urgent``, ``degraded``). A category's default
  priority is raised by what the ticket says (no service at all, fraud → urgent; slow, a deadline,
  anger → high) and by the customer's repeated contacts, and lowered to ``low`` for praise.
- **articles**: the service's hybrid retrieval over every article, internal ones included (triage is
  for agents).
- **queue**: the category's.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..answer.route import Router
from ..errors import ConfigError, InvalidInput
from ..index.embeddings import Embedder
from ..index.retrieval import Retriever
from ..language import detect_language
from ..tone import says, sentiment_of

PRIORITIES = ("low", "normal", "high", "urgent")
SENTIMENTS = ("negative", "neutral", "positive")
TEMPERATURE = 0.02  # softmax temperature over cosine similarities (e5 similarities sit close together)
POOLING = 0.05  # a category's score: a soft maximum over its texts' similarities (one stray text counts less)


def _soft_max(similarities: np.ndarray) -> float:
    """POOLING · log Σ exp(s / POOLING): near the best similarity, raised by several good ones."""
    top = float(np.max(similarities))
    return top + POOLING * math.log(float(np.sum(np.exp((similarities - top) / POOLING))))


@dataclass(frozen=True)
class Category:
    name: str
    queue: str
    priority: str
    texts: tuple[str, ...]  # its descriptions and examples: what a ticket of it reads like


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    # the company's own words for no service and for bad service (the language data files know
    # only how people write): regular expressions, any language
    urgent: tuple[re.Pattern[str], ...] = ()
    degraded: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def load(cls, path: Path) -> Taxonomy:
        """The company's taxonomy file; ConfigError naming what is wrong in it."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"RAG_TRIAGE_TAXONOMY: cannot read {path} ({exc.strerror})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"RAG_TRIAGE_TAXONOMY: {path} is not valid TOML ({exc})") from exc
        categories = []
        for i, raw in enumerate(data.get("category", []), 1):
            name, queue = raw.get("name"), raw.get("queue")
            priority = raw.get("priority", "normal")
            descriptions = raw.get("description", {})
            if not isinstance(descriptions, dict):
                descriptions = {"any": descriptions}
            texts = tuple(str(t) for t in [*descriptions.values(), *raw.get("examples", [])] if str(t).strip())
            if not name or not queue:
                raise ConfigError(f"RAG_TRIAGE_TAXONOMY: category {i} in {path} needs a name and a queue")
            if priority not in PRIORITIES:
                raise ConfigError(f"RAG_TRIAGE_TAXONOMY: category {name!r}: priority must be one of {PRIORITIES}")
            if not texts:
                raise ConfigError(f"RAG_TRIAGE_TAXONOMY: category {name!r} needs a description or examples")
            categories.append(Category(str(name), str(queue), priority, texts))
        if len(categories) < 2:
            raise ConfigError(f"RAG_TRIAGE_TAXONOMY: {path} defines fewer than two categories")
        if len({c.name for c in categories}) != len(categories):
            raise ConfigError(f"RAG_TRIAGE_TAXONOMY: {path} names a category twice")
        signals = {}
        for kind in ("urgent", "degraded"):
            try:
                signals[kind] = tuple(re.compile(str(p), re.IGNORECASE) for p in data.get(kind, []))
            except re.error as exc:
                raise ConfigError(f"RAG_TRIAGE_TAXONOMY: {kind} in {path}: not a regular expression ({exc})") from exc
        return cls(tuple(categories), **signals)


@dataclass(frozen=True)
class Article:
    doc_id: str
    title: str
    score: float


@dataclass
class Triaged:
    language: str
    sentiment: str
    priority: str
    category: str | None  # None without a taxonomy
    queue: str | None
    confidence: float  # of the category: the winner's share of the softmax (0 without a taxonomy)
    categories: dict[str, float] = field(default_factory=dict)  # every category's share
    reasons: list[str] = field(default_factory=list)  # why the priority is what it is
    articles: list[Article] = field(default_factory=list)


class Triage:
    def __init__(
        self, taxonomy: Taxonomy | None, embedder: Embedder, retriever: Retriever, router: Router | None = None
    ) -> None:
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.retriever = retriever
        self.router = router or Router()
        self._vectors: list[np.ndarray] | None = None  # per category: its texts' vectors

    def _category_vectors(self) -> list[np.ndarray]:
        if self._vectors is None and self.taxonomy is not None:
            # symmetric task (ticket vs ticket-like text): both sides embedded as queries
            self._vectors = [
                np.asarray(self.embedder.embed_batch(list(c.texts), kind="query"), dtype=np.float32)
                for c in self.taxonomy.categories
            ]
        return self._vectors or []

    def triage(self, subject: str, body: str, *, repeat_contacts: int = 0, articles: int = 3) -> Triaged:
        text = " ".join(f"{subject.strip()}\n{body.strip()}".split())
        if not re.search(r"\w", text):
            raise InvalidInput("a ticket needs a subject or a body with words")
        language = detect_language(text, default="en")
        labels = self.router.labels(text)
        sentiment = sentiment_of(text, upset=labels["frustrated"] or labels["complaint"])
        result = Triaged(language, sentiment, priority="normal", category=None, queue=None, confidence=0.0)
        default = "normal"
        if self.taxonomy is not None:
            vector = np.asarray(self.embedder.embed_batch([text], kind="query")[0], dtype=np.float32)
            scores = [_soft_max(vs @ vector) for vs in self._category_vectors()]
            top = max(scores)
            weights = [math.exp((s - top) / TEMPERATURE) for s in scores]
            total = sum(weights)
            shares = {c.name: w / total for c, w in zip(self.taxonomy.categories, weights, strict=True)}
            best = max(self.taxonomy.categories, key=lambda c: shares[c.name])
            result.category, result.queue, result.confidence = best.name, best.queue, shares[best.name]
            result.categories = dict(sorted(shares.items(), key=lambda kv: -kv[1]))
            default = best.priority
        company = self.taxonomy or Taxonomy(())
        result.priority, result.reasons = priority_of(
            text,
            default,
            sentiment,
            repeat_contacts,
            angry=labels["frustrated"],
            own_case=labels["account"],
            urgent=any(p.search(text) for p in company.urgent),
            degraded=any(p.search(text) for p in company.degraded),
        )
        passages = self.retriever.retrieve([text], top_k=max(articles * 2, articles), audience=None)
        seen: dict[str, Article] = {}
        for p in passages:
            if p.chunk.doc_id not in seen:
                seen[p.chunk.doc_id] = Article(p.chunk.doc_id, p.chunk.title, round(p.similarity, 4))
        result.articles = list(seen.values())[:articles]
        return result


def priority_of(
    text: str,
    default: str,
    sentiment: str,
    repeat_contacts: int,
    *,
    angry: bool = False,
    own_case: bool = False,
    urgent: bool = False,
    degraded: bool = False,
) -> tuple[str, list[str]]:
    """The priority and the reasons for it: what the ticket says outranks the category's default.
    ``angry``: the router's frustration detector fired; ``own_case``: its detector of questions about
    the customer's own record did; ``urgent``/``degraded``: the company's own signals matched."""
    reasons = []
    level = PRIORITIES.index(default)
    if urgent or says(text, "urgent"):
        level, reasons = 3, ["no service, misuse or money taken wrongly right now"]
    else:
        raised = []
        if degraded or says(text, "degraded"):
            raised.append("service works badly")
        if says(text, "deadline"):
            raised.append("a deadline")
        if angry:
            raised.append("the customer is angry")
        if repeat_contacts >= 2:
            raised.append(f"{repeat_contacts} earlier contacts")
        fine = not own_case and not says(text, "negation")  # nothing of theirs is said to be wrong
        if raised:
            level, reasons = max(level, 2), raised
        elif level == 0 or (fine and (sentiment == "positive" or ("?" in text and not says(text, "own")))):
            level, reasons = 0, ["praise or a general question: nothing of the customer's own is wrong"]
        else:
            reasons = ["the category's usual priority"]
    return PRIORITIES[level], reasons


def load_taxonomy(path: Path | None) -> Taxonomy | None:
    return Taxonomy.load(path) if path is not None else None
