"""The answer cache: a question asked again is answered from the earlier answer, without the model.

Two questions share an answer only when all of this holds:
- the same **terms**: the words of the question that occur in the knowledge base (its BM25
  vocabulary), every number, and every negation (``negation`` in ``rag_service/lexicon``), as a
  set, with the same language and audience. This is the key of the entry: "Tarif M" and "Tarif L",
  "9,90" and "19,90", "kann ich" and "kann ich nicht" never meet, while case, punctuation, word
  order, greetings and words the knowledge base does not use do not matter;
- question vectors with a cosine similarity of at least ``RAG_CACHE_SIMILARITY``;
- every document the answer cites is still at the version it was cited in (checked at each hit:
  a document changed or deleted by the API, ``rag-ingest`` or another worker drops the entry);
- the entry is younger than ``RAG_CACHE_TTL_HOURS``.

Only answers are cached (never a refusal or a handoff), only for the first question of a
conversation, only when the question carries no personal data and no customer profile is behind
it: an answer that could depend on who asks or on what was said before is not shared. Entries
live in the service's database, so every API worker shares them. Nothing the customer wrote is
stored: the key is a digest of the terms.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from .. import lexicon
from ..db import AnswerCacheRow, now
from ..index.embeddings import embed_query
from ..index.lexical import tokenize
from .types import AnswerResult, Citation

if TYPE_CHECKING:
    from ..index.store import Store


@dataclass(frozen=True)
class Cached:
    answer: str
    citations: list[Citation]
    confidence: float | None


@cache
def _negation() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in lexicon.entries("negation")), re.IGNORECASE)


def terms(question: str, vocabulary: frozenset[str]) -> tuple[str, ...]:
    """What must be equal for two questions to share an answer (see the module's text)."""
    words = {t for t in tokenize(question) if t in vocabulary or any(c.isdigit() for c in t)}
    negations = {f"¬{m.group(0).lower()}" for m in _negation().finditer(question)}
    return tuple(sorted(words | negations))


class AnswerCache:
    def __init__(
        self,
        engine: Engine,
        store: Store,
        *,
        similarity: float,
        ttl_hours: float,
        entries: int,
        personal: Callable[[str], bool] | None = None,  # whether a question carries personal data
    ) -> None:
        self._session = sessionmaker(engine, expire_on_commit=False)
        self.store = store
        self._personal = personal
        self.similarity, self.ttl, self.entries = similarity, timedelta(hours=ttl_hours), entries

    def key(self, question: str, language: str, audience: str | None) -> str | None:
        """The entry's key; None when the question has no term of the knowledge base (nothing to share)."""
        found = terms(question, self.store.vocabulary())
        if not any(not t.startswith("¬") for t in found):
            return None
        return hashlib.sha256(json.dumps([language, audience, found]).encode("utf-8")).hexdigest()

    def _vector(self, question: str) -> np.ndarray:
        v = np.asarray(embed_query(self.store.embedder, question), dtype=np.float32)
        return v / (np.linalg.norm(v) or 1.0)

    def lookup(self, question: str, language: str, audience: str | None) -> Cached | None:
        key = self.key(question, language, audience)
        if key is None:
            return None
        vector = self._vector(question)
        with self._session.begin() as s:
            rows = s.scalars(
                select(AnswerCacheRow).where(AnswerCacheRow.key == key, AnswerCacheRow.created_at >= now() - self.ttl)
            ).all()
            ranked = sorted(
                ((float(np.frombuffer(r.vector, dtype=np.float32) @ vector), r) for r in rows), key=lambda x: -x[0]
            )
            for score, row in ranked:
                if score < self.similarity:
                    break
                if not self._current(row):
                    s.delete(row)  # a cited document changed or is gone
                    continue
                row.hits += 1
                row.last_hit_at = now()
                cited = [Citation(**c) for c in json.loads(row.citations_json)]
                return Cached(row.answer, cited, row.confidence)
        return None

    def _current(self, row: AnswerCacheRow) -> bool:
        for doc_id, content_hash in json.loads(row.documents_json).items():
            record = self.store.document(doc_id)
            if record is None or record.content_hash != content_hash:
                return False
        return True

    def put(self, question: str, result: AnswerResult, audience: str | None) -> bool:
        """Keep ``result`` (an answer with citations) for the questions that will share it."""
        key = self.key(question, result.language, audience)
        if key is None or result.action != "answer" or not result.citations:
            return False
        if self._personal is not None and self._personal(question):
            return False  # "I am Anna …": the answer may speak to her; it is not given to others
        documents = {}
        for c in result.citations:
            record = self.store.document(c.doc_id)
            if record is None:
                return False
            documents[c.doc_id] = record.content_hash
        with self._session.begin() as s:
            s.add(
                AnswerCacheRow(
                    id=f"cache_{uuid.uuid4().hex[:20]}",
                    key=key,
                    vector=self._vector(question).tobytes(),
                    answer=result.answer,
                    citations_json=json.dumps([asdict(c) for c in result.citations], ensure_ascii=False),
                    documents_json=json.dumps(documents),
                    confidence=result.confidence,
                )
            )
            self._evict(s)
        return True

    def _evict(self, s: Session) -> None:
        excess = (s.scalar(select(func.count()).select_from(AnswerCacheRow)) or 0) - self.entries
        if excess > 0:
            oldest = select(AnswerCacheRow.id).order_by(AnswerCacheRow.last_hit_at).limit(excess)
            s.execute(delete(AnswerCacheRow).where(AnswerCacheRow.id.in_(oldest.scalar_subquery())))
        s.execute(delete(AnswerCacheRow).where(AnswerCacheRow.created_at < datetime.now(UTC) - self.ttl))

    def forget(self, doc_id: str) -> int:
        """Drop every entry citing ``doc_id`` (it changed or was deleted); how many were dropped."""
        with self._session.begin() as s:
            rows = s.execute(select(AnswerCacheRow.id, AnswerCacheRow.documents_json)).all()
            doomed = [rid for rid, docs in rows if doc_id in json.loads(docs)]
            if doomed:
                s.execute(delete(AnswerCacheRow).where(AnswerCacheRow.id.in_(doomed)))
        return len(doomed)

    def size(self) -> int:
        with self._session() as s:
            return int(s.scalar(select(func.count()).select_from(AnswerCacheRow)) or 0)
