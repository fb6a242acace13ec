"""Stage 2, route: does a person take over before anything is retrieved?

Only when the customer's own words ask for it: an explicit wish for a person, anger, a complaint
they lodge, or a question whose answer is in their own record ("has my refund gone through yet?",
"Warum wurden mir 53 € abgebucht?"). A rule question in the first person ("how long is my notice
period?") is answered from the articles. Two detectors, either suffices: the patterns of the
language data files (``rag_service/lexicon/<lang>.toml``: how people write, nothing about one
company) and a logistic regression per label on the question's embedding (``intents_model.json``,
trained by ``scripts/train_intents.py`` on labelled messages), which catches wordings no pattern
lists. Its thresholds were raised until no answerable question of the evaluation suite's dev half
(four help centers) went to a person.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..index.embeddings import Embedder, embed_query
from ..tone import patterns

log = logging.getLogger(__name__)
LABELS = ("human", "frustrated", "complaint", "account")
LEARNED = ("human", "frustrated", "account")  # the labels the embedding classifier knows
REASONS = {
    "human": "explicit_request",
    "frustrated": "frustration",
    "complaint": "complaint",
    "account": "account_specific",
}
MODEL_PATH = Path(__file__).resolve().parent / "intents_model.json"


@dataclass(frozen=True)
class Lexicon:
    """The routing patterns of every language in ``lexicon/``, compiled; a message is matched
    against all languages (customers mix them)."""

    human: tuple[re.Pattern[str], ...]
    frustration: tuple[re.Pattern[str], ...]
    complaint: tuple[re.Pattern[str], ...]
    account: tuple[re.Pattern[str], ...]
    what_are_you: tuple[re.Pattern[str], ...]
    happy: tuple[re.Pattern[str], ...]
    own: tuple[re.Pattern[str], ...]

    @classmethod
    @cache
    def load(cls) -> Lexicon:
        return cls(**{name: patterns(name) for name in cls.__dataclass_fields__})


def _normal(text: str) -> str:
    return " ".join(text.replace("’", "'").split())


def _any(patterns: Sequence[re.Pattern[str]], text: str) -> bool:
    return any(p.search(text) for p in patterns)


def rule_labels(text: str, lexicon: Lexicon | None = None) -> dict[str, bool]:
    """What the patterns find in ``text``."""
    lex = lexicon or Lexicon.load()
    t = _normal(text)
    happy = _any(lex.happy, t)
    return {
        "human": _any(lex.human, t) and not _any(lex.what_are_you, t),
        "frustrated": _any(lex.frustration, t) or (bool(re.search(r"[!?]{3,}", t)) and not happy),
        "complaint": _any(lex.complaint, t),
        "account": _any(lex.account, t),
    }


def speaks_of_own(text: str) -> bool:
    """The customer speaks of their own contract, plan or order ("what does my plan include?")."""
    return _any(Lexicon.load().own, _normal(text))


@dataclass(frozen=True)
class LabelModel:
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, vector: Sequence[float]) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, vector, strict=True))
        return 1.0 / (1.0 + math.exp(-z))


class IntentModel:
    """The trained classifier; valid only for vectors of the embedder it was trained on."""

    def __init__(self, embedder: str, labels: dict[str, LabelModel]) -> None:
        self.embedder = embedder
        self.labels = labels

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> IntentModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        labels = {
            name: LabelModel(tuple(v["weights"]), float(v["bias"]), float(v["threshold"]))
            for name, v in data["labels"].items()
        }
        return cls(str(data["embedder"]), labels)

    def detect(self, vector: Sequence[float]) -> dict[str, bool]:
        return {name: m.probability(vector) >= m.threshold for name, m in self.labels.items()}


@dataclass(frozen=True)
class Route:
    """``reason`` is None when the question goes on to retrieval."""

    reason: str | None
    labels: dict[str, bool]


class Router:
    """Patterns, plus the classifier when the service runs the embedder it was trained for."""

    def __init__(self, embedder: Embedder | None = None, model: IntentModel | None = None) -> None:
        self.embedder = embedder
        self.model = model
        name = getattr(embedder, "name", None)
        if model is not None and name != model.embedder:
            log.warning("intent model is for %s, the service embeds with %s: patterns only", model.embedder, name)
            self.model = None

    def labels(self, text: str) -> dict[str, bool]:
        found = rule_labels(text)
        if self.model is not None and self.embedder is not None and not all(found.values()):
            learned = self.model.detect(embed_query(self.embedder, text))
            found = {label: found[label] or learned.get(label, False) for label in LABELS}
        return found

    def route(self, text: str) -> Route:
        """The handoff reason (explicit request first), or None: answer from the articles."""
        found = self.labels(text)
        return Route(next((REASONS[label] for label in LABELS if found[label]), None), found)
