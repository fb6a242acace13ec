"""The knowledge base learns from support work: suggested article changes for a person to accept.

Two sources, over the last ``DAYS`` days:

- **edited drafts**: an agent changed the assistant's draft before sending it. The sentences the
  agent added (not in the draft) are the missing fact; the text sent is the agent's wording; the
  article to change is the one the draft cited most.
- **gaps**: questions the assistant refused or handed on because it could not answer (the
  analytics' gap reasons), clustered by embedding; a cluster asked at least ``MIN_ASKED`` times is
  a suggestion. An edited or sent draft that answered a question of the cluster lends its wording.

Every suggestion carries a proposed Markdown article (personal data redacted). Nothing is indexed
until a person accepts it (``POST /v1/suggestions/{id}/accept``, which writes the file into the
knowledge-base folder and indexes it); a rejected suggestion does not come back. Suggestions are
kept in the ``kb_suggestions`` table so decisions survive; an open one is refreshed as more
questions join its cluster.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..db import DraftRow, SuggestionRow, now, utc
from ..errors import Conflict, InvalidInput, NotFound
from ..index.embeddings import Embedder
from ..index.lexical import tokenize
from .analytics import GAP_REASONS, cluster, exchanges

log = logging.getLogger(__name__)
DAYS = 30
MIN_ASKED = 2  # a gap asked this often is worth an article
MAX_QUESTIONS = 1000  # most recent unanswered questions clustered per refresh
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass
class Suggestion:
    id: str
    kind: str  # edited_draft | gap
    status: str  # open | accepted | rejected
    title: str  # the question (cluster label) the article should answer
    questions: list[str]  # examples of how customers asked
    asked: int  # how many times
    missing: str  # the missing fact, as far as it is known
    wording: str | None  # the agent's wording, if an agent answered it
    target_doc: str | None  # the article to change; None: a new article
    proposed: str  # the proposed Markdown
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    doc_id: str | None = None  # the document it became
    sources: list[str] = field(default_factory=list)  # draft ids it came from
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)  # a gap's label, embedded


def added_sentences(draft: str, sent: str) -> list[str]:
    """Sentences of ``sent`` whose words are mostly not in ``draft``: what the agent added."""
    have = set(tokenize(draft))
    out = []
    for sentence in _SENTENCE.split(sent):
        words = [w for w in tokenize(sentence) if len(w) > 2]
        if words and sum(w not in have for w in words) / len(words) > 0.5:
            out.append(sentence.strip())
    return out


def _markdown(title: str, body: str) -> str:
    """The proposed article: the question as its heading, the answer below (how customers asked it is
    shown with the suggestion, not written into the article)."""
    return f"# {title.strip().rstrip('?')}\n\n{body.strip()}\n"


def _row(s: Suggestion) -> dict[str, object]:
    return {
        "kind": s.kind,
        "title": s.title,
        "questions_json": json.dumps(s.questions, ensure_ascii=False),
        "asked": s.asked,
        "missing": s.missing,
        "wording": s.wording,
        "target_doc": s.target_doc,
        "proposed": s.proposed,
        "sources_json": json.dumps(s.sources),
    }


def _suggestion(r: SuggestionRow) -> Suggestion:
    return Suggestion(
        id=r.id,
        kind=r.kind,
        status=r.status,
        title=r.title,
        questions=json.loads(r.questions_json),
        asked=r.asked,
        missing=r.missing,
        wording=r.wording,
        target_doc=r.target_doc,
        proposed=r.proposed,
        created_at=utc(r.created_at),
        decided_by=r.decided_by,
        decided_at=utc(r.decided_at) if r.decided_at else None,
        doc_id=r.doc_id,
        sources=json.loads(r.sources_json or "[]"),
    )


class Learning:
    """The one owner of the ``kb_suggestions`` table."""

    def __init__(self, engine: Engine, embedder: Embedder, *, redact: Callable[[str], str] | None = None) -> None:
        self.engine = engine
        self.embedder = embedder
        self.redact = redact or (lambda text: text)
        self._session = sessionmaker(engine, expire_on_commit=False)
        # cluster threshold on the embedder's own scale, as the analytics' topics
        self.similarity = embedder.relevance_floor + (1 - embedder.relevance_floor) * 0.45

    # ------------------------------------------------------------------ finding
    def _drafts_sent(self, since: datetime) -> list[DraftRow]:
        """Drafts an agent sent, as written or edited, since ``since``."""
        with Session(self.engine) as s:
            query = select(DraftRow).where(DraftRow.outcome.in_(("sent", "edited")), DraftRow.outcome_at >= since)
            return list(s.scalars(query).all())

    def _from_drafts(self, drafts: Sequence[DraftRow]) -> list[Suggestion]:
        out = []
        for d in (d for d in drafts if d.outcome == "edited"):
            added = added_sentences(d.draft, d.final_text or "")
            if not added:
                continue  # reworded, nothing new
            ticket = json.loads(d.ticket_json)
            asked = [m["text"] for m in ticket.get("messages", []) if m.get("role") == "customer" and m.get("text")]
            question = self.redact(asked[-1] if asked else ticket.get("subject") or "")
            cited = Counter(c.get("doc_id") for c in json.loads(d.citations_json or "[]") if c.get("doc_id"))
            wording = self.redact(d.final_text or "")
            missing = self.redact(" ".join(added))
            out.append(
                Suggestion(
                    id="",
                    kind="edited_draft",
                    status="open",
                    title=question[:300] or "(no question)",
                    questions=[question] if question else [],
                    asked=1,
                    missing=missing,
                    wording=wording,
                    target_doc=cited.most_common(1)[0][0] if cited else None,
                    proposed=_markdown(question or "Answer", missing),
                    created_at=now(),
                    sources=[d.id],
                )
            )
        return out

    @staticmethod
    def _answered_by_agents(drafts: Sequence[DraftRow]) -> list[tuple[str, str]]:
        """(the customer's question, the text an agent sent) of drafts sent or edited."""
        out = []
        for d in drafts:
            asked = [m["text"] for m in json.loads(d.ticket_json).get("messages", []) if m.get("role") == "customer"]
            if asked and d.final_text:
                out.append((asked[-1], d.final_text))
        return out

    def _from_gaps(self, since: datetime, drafts: Sequence[DraftRow]) -> list[Suggestion]:
        gaps = [
            e.question
            for e in exchanges(self.engine, since, now() + timedelta(seconds=1))
            if e.reason in GAP_REASONS and e.question.strip()
        ][-MAX_QUESTIONS:]
        if len(gaps) < MIN_ASKED:
            return []
        unique = list(dict.fromkeys(gaps))
        counts = Counter(gaps)
        vectors = np.asarray(self.embedder.embed_batch(unique, kind="query"), dtype=np.float32)
        answered = self._answered_by_agents(drafts)
        answer_vectors = (
            np.asarray(self.embedder.embed_batch([q for q, _ in answered], kind="query"), dtype=np.float32)
            if answered
            else np.zeros((0, vectors.shape[1]), dtype=np.float32)
        )
        out = []
        for group in cluster(vectors.tolist(), self.similarity):
            asked = sum(counts[unique[i]] for i in group)
            if asked < MIN_ASKED:
                continue
            centroid = vectors[group].sum(axis=0)
            centroid /= np.linalg.norm(centroid) or 1.0
            at = group[int(np.argmax(vectors[group] @ centroid))]
            label = unique[at]
            examples = sorted({self.redact(unique[i]) for i in group}, key=lambda q: -counts.get(q, 0))[:5]
            wording = None
            if len(answer_vectors):
                sims = answer_vectors @ centroid
                best = int(np.argmax(sims))
                if sims[best] >= self.similarity:
                    wording = self.redact(answered[best][1])
            title = self.redact(label)
            missing = f"No article answers this; asked {asked} times without an answer."
            body = wording or "(Write the answer here: the fact customers are missing.)"
            out.append(
                Suggestion(
                    id="",
                    kind="gap",
                    status="open",
                    title=title,
                    questions=examples,
                    asked=asked,
                    missing=missing,
                    wording=wording,
                    target_doc=None,
                    proposed=_markdown(title, body),
                    created_at=now(),
                    vector=vectors[at],
                )
            )
        return out

    def refresh(self, days: int = DAYS) -> list[Suggestion]:
        """Find suggestions in the recent support work and keep them; the open ones, most asked first."""
        since = now() - timedelta(days=days)
        drafts = self._drafts_sent(since)
        found = self._from_drafts(drafts) + self._from_gaps(since, drafts)
        try:
            self._keep(found)
        except IntegrityError:  # another worker stored the same suggestion a moment ago
            log.info("suggestions refreshed concurrently; kept the other worker's")
        return self.suggestions("open")

    def _keep(self, found: list[Suggestion]) -> None:
        with self._session() as s, s.begin():
            stored = list(s.scalars(select(SuggestionRow)))
            by_key = {r.key: r for r in stored}
            gap_rows = [r for r in stored if r.kind == "gap"]
            gap_vectors = (
                np.asarray(self.embedder.embed_batch([r.title for r in gap_rows], kind="query"), dtype=np.float32)
                if gap_rows
                else None
            )
            for sug in found:
                if sug.kind == "edited_draft":
                    key = "draft:" + sug.sources[0]
                    row = by_key.get(key)
                else:
                    row, key = None, "gap:" + hashlib.sha256(sug.title.lower().encode()).hexdigest()[:24]
                    if gap_vectors is not None and sug.vector is not None:  # the same cluster, a drifted label
                        sims = gap_vectors @ sug.vector
                        best = int(np.argmax(sims))
                        if sims[best] >= self.similarity:
                            row = gap_rows[best]
                if row is None:
                    s.add(
                        SuggestionRow(
                            id=f"sug_{uuid.uuid4().hex[:16]}", key=key, status="open", created_at=now(), **_row(sug)
                        )
                    )
                elif row.status == "open":  # a decided one stays decided
                    for name, value in _row(sug).items():
                        setattr(row, name, value)

    # ------------------------------------------------------------------ reading and deciding
    def suggestions(self, status: str | None = "open") -> list[Suggestion]:
        with self._session() as s:
            query = select(SuggestionRow)
            if status:
                query = query.where(SuggestionRow.status == status)
            rows = s.scalars(query).all()
        return sorted((_suggestion(r) for r in rows), key=lambda x: (-x.asked, x.created_at))

    def get(self, suggestion_id: str) -> Suggestion:
        with self._session() as s:
            row = s.get(SuggestionRow, suggestion_id)
            if row is None:
                raise NotFound(f"no suggestion {suggestion_id!r}")
            return _suggestion(row)

    def decide(self, suggestion_id: str, status: str, by: str, doc_id: str | None = None) -> Suggestion:
        """Mark a suggestion accepted (as document ``doc_id``) or rejected; once."""
        if status not in ("accepted", "rejected"):
            raise InvalidInput("a suggestion is accepted or rejected")
        with self._session() as s, s.begin():
            row = s.get(SuggestionRow, suggestion_id)
            if row is None:
                raise NotFound(f"no suggestion {suggestion_id!r}")
            if row.status != "open":
                raise Conflict(f"suggestion {suggestion_id} was already {row.status}")
            row.status, row.decided_by, row.decided_at, row.doc_id = status, by, now(), doc_id
            return _suggestion(row)


def slug(text: str) -> str:
    """A file name from a title: "Wie lange dauert …?" -> "wie-lange-dauert"."""
    words = re.findall(r"\w+", text.lower())[:8]
    return "-".join(words) or "article"


def scrub_suggestions(engine: Engine, texts: Collection[str]) -> int:
    """A customer's erasure: their questions leave every suggestion. An open suggestion built on one
    is deleted (the next refresh rebuilds it from what is left); a decided one keeps its decision
    with the questions removed. How many suggestions changed."""
    if not texts:
        return 0
    changed = 0
    with Session(engine) as s, s.begin():
        for row in s.scalars(select(SuggestionRow)):
            questions = json.loads(row.questions_json)
            if row.title not in texts and not any(q in texts for q in questions):
                continue
            changed += 1
            if row.status == "open":
                s.delete(row)
                continue
            row.questions_json = json.dumps([q for q in questions if q not in texts], ensure_ascii=False)
            if row.title in texts:
                row.title = "(a question erased at the customer's request)"
    return changed
