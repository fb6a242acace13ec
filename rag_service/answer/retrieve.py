"""Stage 3, retrieve: hybrid search (``rag_service.index.retrieval``), then each passage cut to the
sentences that matter for the question, so the model reads a short prompt (prefill is most of an
answer's time on a CPU) and has little else to copy from.

A passage keeps its heading line; its other lines and sentences are ranked by embedding similarity
to the question, and the best ones are kept, in their original order, up to ``words`` words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from ..index.documents import Audience
from ..index.embeddings import Embedder, embed_query
from ..index.retrieval import Passage, Retriever

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9\"„(])")


def units(body: str) -> list[str]:
    """Lines, and the sentences of long lines: the pieces a passage can be cut into."""
    out: list[str] = []
    for line in body.splitlines():
        line = line.strip()
        if line:
            out += [s.strip() for s in _SENTENCE.split(line) if s.strip()] if len(line.split()) > 25 else [line]
    return out


def focus(passages: Sequence[Passage], question: str, embedder: Embedder, words: int) -> list[Passage]:
    """``passages`` with their text cut to the heading and the units most similar to ``question``."""
    if words <= 0:
        return list(passages)
    pieces = [
        (i, units(p.chunk.text.split("\n", 1)[1] if "\n" in p.chunk.text else "")) for i, p in enumerate(passages)
    ]
    flat = [u for _, us in pieces for u in us]
    if not flat:
        return list(passages)
    q = embed_query(embedder, question)
    vectors = embedder.embed_batch(flat, kind="passage")
    similarity = [sum(a * b for a, b in zip(q, v, strict=True)) for v in vectors]
    out, at = [], 0
    for i, us in pieces:
        scores, at = similarity[at : at + len(us)], at + len(us)
        ranked = sorted(range(len(us)), key=lambda j: -scores[j])
        keep: set[int] = set()
        total = 0
        for j in ranked:
            n = len(us[j].split())
            if keep and total + n > words:
                continue
            keep.add(j)
            total += n
        head = passages[i].chunk.text.split("\n", 1)[0]
        text = "\n".join([head] + [us[j] for j in sorted(keep)])
        out.append(replace(passages[i], chunk=replace(passages[i].chunk, text=text)))
    return out


def retrieve(
    retriever: Retriever, queries: Sequence[str], *, audience: Audience, words: int, question: str
) -> list[Passage]:
    passages = retriever.retrieve(queries, audience=audience)
    return focus(passages, question, retriever.store.embedder, words)
