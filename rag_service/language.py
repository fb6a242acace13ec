"""Which language a text is in, tuned for the two the product serves (German, English).

Stop-word votes decide short texts such as questions ("Was kostet das?"), where statistical
detectors guess wildly; langdetect (seeded, so the answer is stable) decides the rest.
"""

from __future__ import annotations

import re
from functools import lru_cache

from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

SUPPORTED = ("de", "en")
_WORD = re.compile(r"[a-zäöüß]+")
_DE = frozenset(STOPWORDS_GERMAN) | {"ich", "sie", "wie", "was", "kann", "ist", "mein", "meine", "möchte", "bitte"}
_EN = frozenset(STOPWORDS_EN) | {"i", "my", "how", "what", "can", "please", "want"}
_DE_ONLY = _DE - _EN
_EN_ONLY = _EN - _DE


@lru_cache(maxsize=1)
def _detector_factory() -> object:
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0
    return DetectorFactory


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code; ``default`` when the text has no letters to judge."""
    words = _WORD.findall(text.lower())
    if not words:
        return default
    de = sum(w in _DE_ONLY for w in words) + 2 * sum(ch in "äöüß" for ch in text.lower())
    en = sum(w in _EN_ONLY for w in words)
    if de >= 2 * en + 1 or en >= 2 * de + 1:
        return "de" if de > en else "en"
    try:
        _detector_factory()
        from langdetect import detect_langs

        best = detect_langs(text)
    except Exception:  # langdetect raises on texts without features
        return default
    for cand in best:
        if cand.lang in SUPPORTED and cand.prob >= 0.3:
            return str(cand.lang)
    if len(words) < 6:  # too short to trust a third language: keep to the ones we serve
        return default
    return str(best[0].lang) if best else default
