"""Conversations and their messages, in a SQL database through SQLAlchemy (SQLite by default,
any SQLAlchemy URL such as PostgreSQL by ``RAG_DATABASE_URL``). The answer pipeline reads the
recent turns of a conversation so a follow-up question ("and how much does it cost?") has context."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..db import ConversationRow, MessageRow, utc


@dataclass(frozen=True)
class Turn:
    role: str
    content: str
    action: str | None = None


class ConversationStore:
    def __init__(self, engine: Engine, *, redact: Callable[[str], str] | None = None) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)
        self._redact = redact or (lambda text: text)  # the customer's words as stored

    def session(self) -> Session:
        return self._session()

    def ensure(self, conversation_id: str | None, customer_id: str | None = None) -> str:
        """The given conversation (created on first use, so clients may choose their ids) or a new one."""
        cid = conversation_id or f"conv_{uuid.uuid4().hex[:20]}"
        with self.session() as s, s.begin():
            row = s.get(ConversationRow, cid)
            if row is None:
                s.add(ConversationRow(id=cid, customer_id=customer_id))
            elif customer_id and not row.customer_id:  # the customer logged in mid-conversation
                row.customer_id = customer_id
        return cid

    def customer_of(self, conversation_id: str) -> str | None:
        with self.session() as s:
            row = s.get(ConversationRow, conversation_id)
            return None if row is None else row.customer_id

    def exists(self, conversation_id: str) -> bool:
        with self.session() as s:
            return s.get(ConversationRow, conversation_id) is not None

    def customer_of_answer(self, answer_id: str) -> tuple[bool, str | None]:
        """Whether ``answer_id`` names an answer, and the customer of its conversation."""
        with self.session() as s:
            row = s.execute(
                select(ConversationRow.customer_id)
                .join(MessageRow, MessageRow.conversation_id == ConversationRow.id)
                .where(MessageRow.answer_id == answer_id)
                .limit(1)
            ).first()
        return (False, None) if row is None else (True, row[0])

    def recorded_answer(self, answer_id: str) -> dict[str, Any] | None:
        """An answer as it was sent: text, action, reason, language, citations, its conversation."""
        with self.session() as s:
            row = s.scalars(select(MessageRow).where(MessageRow.answer_id == answer_id).limit(1)).first()
            if row is None:
                return None
            return {
                "id": answer_id,
                "conversation_id": row.conversation_id,
                "action": row.action,
                "reason": row.reason,
                "answer": row.content,
                "language": row.language,
                "citations": json.loads(row.citations_json or "[]"),
                "created_at": utc(row.created_at),
            }

    def history(self, conversation_id: str, *, turns: int) -> list[Turn]:
        """The last ``turns`` question/answer pairs, oldest first."""
        if turns <= 0:
            return []
        with self.session() as s:
            rows = s.scalars(
                select(MessageRow)
                .where(MessageRow.conversation_id == conversation_id)
                .order_by(MessageRow.id.desc())
                .limit(turns * 2)
            ).all()
        return [Turn(r.role, r.content, r.action) for r in reversed(rows)]

    def add_exchange(
        self,
        conversation_id: str,
        *,
        question: str,
        answer: str,
        answer_id: str,
        action: str,
        reason: str | None,
        language: str,
        citations: Sequence[dict[str, Any]],
        latency_ms: float | None = None,
        topic: str | None = None,
        sentiment: str | None = None,
    ) -> None:
        with self.session() as s, s.begin():
            s.add(
                MessageRow(
                    conversation_id=conversation_id,
                    role="user",
                    content=self._redact(question),
                    language=language,
                    topic=topic,
                    sentiment=sentiment,
                )
            )
            s.add(
                MessageRow(
                    conversation_id=conversation_id,
                    role="assistant",
                    content=answer,
                    answer_id=answer_id,
                    action=action,
                    reason=reason,
                    language=language,
                    citations_json=json.dumps(list(citations), ensure_ascii=False),
                    latency_ms=latency_ms,
                )
            )

    def customer_questions(self, customer_id: str, *, limit: int = 5) -> list[str]:
        """The customer's latest questions to the assistant, newest first (context for drafts)."""
        with self.session() as s:
            rows = s.scalars(
                select(MessageRow.content)
                .join(ConversationRow, ConversationRow.id == MessageRow.conversation_id)
                .where(ConversationRow.customer_id == customer_id, MessageRow.role == "user")
                .order_by(MessageRow.id.desc())
                .limit(limit)
            ).all()
        return list(rows)

    def conversations_since(self, customer_id: str, since: datetime) -> int:
        """How many conversations the customer started since ``since`` (their recent contacts)."""
        with self.session() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(ConversationRow)
                    .where(ConversationRow.customer_id == customer_id, ConversationRow.created_at >= since)
                )
                or 0
            )

    def of_customer(self, customer_id: str) -> list[str]:
        """The ids of the customer's conversations, oldest first."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(ConversationRow.id)
                    .where(ConversationRow.customer_id == customer_id)
                    .order_by(ConversationRow.created_at, ConversationRow.id)
                )
            )

    def answer_ids(self, conversation_ids: Sequence[str]) -> list[str]:
        with self.session() as s:
            return list(
                s.scalars(
                    select(MessageRow.answer_id).where(
                        MessageRow.conversation_id.in_(conversation_ids), MessageRow.answer_id.is_not(None)
                    )
                )
            )

    def delete(self, conversation_ids: Sequence[str]) -> int:
        """Delete conversations with every message; how many messages went."""
        with self.session() as s, s.begin():
            gone = s.execute(delete(MessageRow).where(MessageRow.conversation_id.in_(conversation_ids)))
            s.execute(delete(ConversationRow).where(ConversationRow.id.in_(conversation_ids)))
            return int(gone.rowcount)  # type: ignore[attr-defined]

    def idle_since(self, cutoff: datetime) -> list[str]:
        """Conversations whose newest message (or, without messages, whose start) is older than ``cutoff``."""
        last = (
            select(MessageRow.conversation_id, func.max(MessageRow.created_at).label("last"))
            .group_by(MessageRow.conversation_id)
            .subquery()
        )
        with self.session() as s:
            return list(
                s.scalars(
                    select(ConversationRow.id)
                    .outerjoin(last, last.c.conversation_id == ConversationRow.id)
                    .where(func.coalesce(last.c.last, ConversationRow.created_at) < cutoff)
                )
            )

    def transcript(self, conversation_id: str) -> list[dict[str, Any]]:
        """Every message of the conversation, oldest first (for a handoff or a customer's export)."""
        with self.session() as s:
            rows = s.scalars(
                select(MessageRow).where(MessageRow.conversation_id == conversation_id).order_by(MessageRow.id)
            ).all()
        return [
            {
                "role": r.role,
                "content": r.content,
                "action": r.action,
                "reason": r.reason,
                "at": r.created_at.isoformat(timespec="seconds") if r.created_at else None,
            }
            for r in rows
        ]
