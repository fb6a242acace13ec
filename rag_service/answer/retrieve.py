"""Stage 3, retrieve: hybrid search (``rag_service.index.retrieval``), then the units of the passages
(lines, sentences of long lines, table rows with their column headings) ranked by embedding
similarity to the question and its translation; the best few are what a quoted answer says.

Measured on the dev splits of three help centers we did not write (107 answerable questions, no
model): the three units of the top four passages most similar to the question (each read after its
passage's heading) hold the key facts and a gold citation for 22/37, 17/37 and 18/33 questions
(units alone: 24, 12, 16); the small model writing the answer from the same passages got 4/15, 3/15
and 4/15 (``answer_mode=generate``). Four units within 100 words instead of three within 80: 24, 18,
18 without the model; with it (the yes/no gate at 0.5, translations) 17, 15, 16 right instead of 15,
14, 14, unanswerables declined 10, 11, 8 instead of 11, 11, 8 (``reports/g0-dev`` vs ``v5-dev``).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from ..index.embeddings import Embedder, embed_query
from ..index.retrieval import Passage

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9\"„(])")


_RULE = re.compile(r"^\|?\s*:?-{3,}")
_BULLET = re.compile(r"^[-*•–]\s+")  # a list item's bullet, not part of what it says


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def units(body: str) -> list[str]:
    """Lines, and the sentences of long lines: the pieces a passage can be cut into. A table row
    carries its column headings ("Bank connections — Solo: 1; Team: 5"), so it reads on its own."""
    out: list[str] = []
    header: list[str] | None = None
    for line in body.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            header = None
        if not line or _RULE.match(line):
            continue
        if line.startswith("|"):
            cells = _cells(line)
            if header is None:
                header = cells  # a table's first row names its columns
                continue
            named = [f"{h}: {c}" if h else c for h, c in zip(header[1:], cells[1:], strict=False) if c]
            out.append(f"{cells[0]} — {'; '.join(named)}" if named else cells[0])
            continue
        out += _pieces(line)
    return out


def _pieces(line: str, *, long: int = 25, short: int = 3) -> list[str]:
    """A paragraph's units. An FAQ paragraph ("Ich habe die Rechnung nicht mehr. Gilt die
    Gewährleistung trotzdem? Ja. Wenn Sie …") becomes its question (its first sentences, up to the
    "?") and its answer; a short sentence ("Ja.") goes with the one after it, since it says nothing
    alone; a long answer is cut into its sentences."""
    sentences = [s.strip() for s in _SENTENCE.split(line) if s.strip()]
    asked = next((k + 1 for k, s in enumerate(sentences) if s.endswith("?")), 0)
    asked = asked if asked <= 2 else 0  # a question opens an FAQ paragraph
    out = [" ".join(sentences[:asked])] if asked else []
    rest = sentences[asked:]
    if sum(len(s.split()) for s in rest) <= long:
        return out + ([" ".join(rest)] if rest else [])
    held: list[str] = []
    for s in rest:
        held.append(s)
        if len(s.split()) > short or s.endswith("?"):  # a question stays alone: it is not quoted
            out.append(" ".join(held))
            held = []
    if held:
        out.append(" ".join(held))
    return out


@dataclass(frozen=True)
class Quote:
    passage: int  # 0-based index into the retrieved passages
    text: str  # a unit of that passage, verbatim (a table row with its column headings)
    similarity: float  # to the closest of the searches


class Selector:
    """Picks the units of the retrieved passages that are most similar to the question: what the
    quoted answer says. Unit vectors are memoised by text (the same articles come up all day)."""

    def __init__(self, embedder: Embedder, *, sentences: int, words: int, memo: int = 20_000) -> None:
        self.embedder, self.sentences, self.words, self.memo = embedder, sentences, words, memo
        self._vectors: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _embed(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh = dict(zip(missing, self.embedder.embed_batch(missing, kind="passage"), strict=True))
        with self._lock:
            self._vectors.update(fresh)
            while len(self._vectors) > self.memo:
                self._vectors.popitem(last=False)
            return [fresh.get(t) or self._vectors[t] for t in texts]

    def select(self, passages: Sequence[Passage], queries: Sequence[str]) -> list[Quote]:
        """The best units, most similar first: at most ``sentences`` of them and ``words`` words
        (the best one always)."""
        found = [(i, u) for i, p in enumerate(passages) for u in units(_body(p.chunk.text))]
        if not found:
            return []
        asked = [embed_query(self.embedder, q) for q in queries]
        # a unit is compared with its passage's heading before it: "Solo: 1" alone says nothing about
        # bank connections (dev, 3 help centers: 57 instead of 52 of 107 answerable right, worst set 12 -> 17)
        vectors = self._embed([f"{_head(passages[i].chunk.text)}: {u}" for i, u in found])
        similarity = [max(sum(a * b for a, b in zip(q, v, strict=True)) for q in asked) for v in vectors]
        candidates = []
        for k, (i, u) in enumerate(found):
            if u.endswith("?"):
                continue  # a question is no answer; an FAQ entry's question lends its score to the answer after it
            before = k - 1 if k and found[k - 1][0] == i and found[k - 1][1].endswith("?") else None
            score = max(similarity[k], similarity[before]) if before is not None else similarity[k]
            candidates.append(Quote(i, _BULLET.sub("", u), score))
        scored = sorted(candidates, key=lambda q: -q.similarity)
        out: list[Quote] = []
        total = 0
        for quote in scored[: self.sentences]:
            n = len(quote.text.split())
            if out and total + n > self.words:
                continue
            out.append(quote)
            total += n
        return out


def _head(text: str) -> str:
    """A chunk's first line: its document title and section heading."""
    return text.split("\n", 1)[0]


def _body(text: str) -> str:
    """A chunk's text without its first line (the title and heading the chunker puts there)."""
    return text.split("\n", 1)[1] if "\n" in text else ""
