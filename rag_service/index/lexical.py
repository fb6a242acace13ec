"""Tokenisation for the BM25 index: language-neutral, so German and English passages share one index.

Lower-cased Unicode words, German and English stop words removed, no stemming (a stemmer needs the
language of each text, and compounds defeat it anyway). Numbers are kept: "9,90" and "0800" are
exactly the tokens a customer types.
"""

from __future__ import annotations

import re
import unicodedata

from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN

_WORD = re.compile(r"\w+(?:[.,]\d+)*", re.UNICODE)
_STOP = frozenset(STOPWORDS_EN) | frozenset(STOPWORDS_GERMAN)


def tokenize(text: str) -> list[str]:
    norm = unicodedata.normalize("NFKC", text).lower()
    return [t for t in _WORD.findall(norm) if t not in _STOP and (len(t) > 1 or t.isdigit())]
