"""How a message sounds, from the language data files (``rag_service/lexicon/<lang>.toml``): whether
it says one of the listed things (``says``) and its sentiment (``sentiment_of``). Used by ticket
triage and by the answer path (each question's tone is recorded for the spike alerts)."""

from __future__ import annotations

import re
from functools import cache

from .lexicon import entries


@cache
def patterns(name: str) -> tuple[re.Pattern[str], ...]:
    """Every language's entries under ``name``, compiled case-insensitively (once per process)."""
    return tuple(re.compile(p, re.IGNORECASE) for p in entries(name))


def says(text: str, *names: str) -> bool:
    """Whether ``text`` matches an entry of any language under any of ``names``."""
    return any(p.search(text) for name in names for p in patterns(name))


def sentiment_of(text: str, upset: bool = False) -> str:
    """negative, neutral or positive. ``upset``: the handoff router's frustration or complaint
    detector fired (rag_service/answer/route.py)."""
    if upset or says(text, "frustration", "complaint", "negative"):
        return "negative"
    if says(text, "praise"):
        return "positive"
    return "neutral"
