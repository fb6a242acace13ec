"""Hybrid retrieval: dense (Chroma) and lexical (BM25) results fused by reciprocal rank, near
duplicates removed, and a relevance floor that lets an off-topic question reach no passage at all
(so it is refused without calling the LLM)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..config import Settings
from .documents import Audience, Chunk
from .embeddings import embed_query
from .store import Store

RRF_K = 60
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Passage:
    """A chunk chosen for the prompt, with the scores that chose it."""

    chunk: Chunk
    similarity: float  # cosine similarity to the (first) query
    fused: float  # reciprocal-rank-fusion score over all searches


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def near_duplicate(a: Chunk, b: Chunk, threshold: float = 0.9) -> bool:
    """Same passage published twice (two documents, or two versions of one text): word-set Jaccard."""
    wa, wb = _words(a.text.split("\n", 1)[-1]), _words(b.text.split("\n", 1)[-1])
    if not wa or not wb:
        return False
    return len(wa & wb) / len(wa | wb) >= threshold


def apply_relevance_floor(passages: list[Passage], floor: float) -> list[Passage]:
    """Drop passages less similar to the question than ``floor``, so an off-topic question reaches
    the generator with no context and is refused (``not_in_knowledge_base``) instead of answered
    from the nearest irrelevant chunk."""
    return [p for p in passages if p.similarity >= floor]


class Retriever:
    def __init__(
        self, store: Store, *, top_k: int, floor: float, candidates: int = 20, lexical_weight: float = 0.25
    ) -> None:
        self.store = store
        self.top_k = top_k
        self.floor = floor
        self.candidates = candidates
        # BM25 ranks by shared words ("kostet"), which pulls in the wrong section of the right page.
        # Measured hit@3 (kb_docs_eval (our set) / faq_de_dev / covidqa_dev): dense .912/.760/.944, fused with
        # lexical weight 1.0 .853/.672/.963, 0.5 .853/.712/.958, 0.25 .882/.720/.958: a quarter keeps
        # exact-term hits (numbers, product names) at the smallest cost (RAG_LEXICAL_WEIGHT).
        self.lexical_weight = lexical_weight

    @classmethod
    def configured(cls, store: Store, settings: Settings) -> Retriever:
        """As the RAG_* settings say (the relevance floor defaults to the embedder's own)."""
        floor = settings.relevance_floor if settings.relevance_floor is not None else store.embedder.relevance_floor
        return cls(store, top_k=settings.top_k, floor=floor, lexical_weight=settings.lexical_weight)

    def retrieve(
        self, queries: Sequence[str], *, top_k: int | None = None, audience: Audience | None = "public"
    ) -> list[Passage]:
        """Passages for the first query, helped by the others (e.g. the question joined with the
        previous one, for a follow-up). ``top_k=None`` means the configured default."""
        k = self.top_k if top_k is None else top_k
        fused: dict[str, float] = {}
        chunks: dict[str, Chunk] = {}
        similarity: dict[str, float] = {}
        main_vector = embed_query(self.store.embedder, queries[0])
        for qi, query in enumerate(queries):
            vector = main_vector if qi == 0 else embed_query(self.store.embedder, query)
            dense = self.store.dense_search(query, k=self.candidates, audience=audience, vector=vector)
            lexical = self.store.lexical_search(query, k=self.candidates, audience=audience)
            for ranked, weight in ((dense, 1.0), (lexical, self.lexical_weight)):
                for rank, hit in enumerate(ranked):
                    cid = hit.chunk.chunk_id
                    chunks[cid] = hit.chunk
                    fused[cid] = fused.get(cid, 0.0) + weight / (RRF_K + rank + 1)
            for hit in dense:
                similarity[hit.chunk.chunk_id] = max(similarity.get(hit.chunk.chunk_id, -1.0), hit.score)
            for hit in lexical:  # found by BM25 alone: held to the same floor by its own vector
                if hit.vector is not None and hit.chunk.chunk_id not in similarity:
                    similarity[hit.chunk.chunk_id] = float(np.dot(main_vector, hit.vector))
        missing = [chunks[cid] for cid in chunks if cid not in similarity]
        similarity.update(self.store.similarities(main_vector, missing))
        ranked_ids = sorted(fused, key=lambda cid: fused[cid], reverse=True)
        passages = [Passage(chunks[cid], similarity.get(cid, -1.0), fused[cid]) for cid in ranked_ids]
        passages = apply_relevance_floor(passages, self.floor)
        chosen: list[Passage] = []
        for p in passages:
            if not any(near_duplicate(p.chunk, c.chunk) for c in chosen):
                chosen.append(p)
            if len(chosen) == k:
                break
        return chosen
