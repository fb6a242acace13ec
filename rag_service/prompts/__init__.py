"""Prompt templates and fixed service texts, kept as data files beside this module."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class ServiceTexts:
    refuse: str
    handoff: str
    disclosure: str
    language: str
    greeting: str
    greeting_anonymous: str
    closing: str
    no_kb: str
    check_account: str
    premise: str  # "{figures}": what the customer assumed that the help articles do not confirm
    variant: str  # "{title}": the article of another customer segment whose answer follows


@cache
def template(name: str) -> str:
    return (_DIR / name).read_text(encoding="utf-8")


@cache
def instructions() -> str:
    """The rules of every prompt the model is given, without their examples (which read like help
    articles), as one text: an answer that recites them is removed."""
    texts = (p.read_text(encoding="utf-8").split("Example", 1)[0] for p in sorted(_DIR.glob("*_system.txt")))
    return "\n".join(texts)


@cache
def service_texts(language: str) -> ServiceTexts:
    """Texts in the customer's language; English for languages we have no texts for."""
    data = tomllib.loads(template("messages.toml"))
    return ServiceTexts(**data.get(language, data["en"]))


@cache
def rewrite_examples() -> list[dict[str, str]]:
    """Worked examples of a follow-up made standalone."""
    return list(tomllib.loads(template("rewrite_examples.toml"))["example"])
