"""Conversations and their messages, in a SQL database through SQLAlchemy (SQLite by default,
any SQLAlchemy URL such as PostgreSQL by ``RAG_DATABASE_URL``). The answer pipeline reads the
recent turns of a conversation so a follow-up question ("and how much does it cost?") has context."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from ..db import ConversationRow, MessageRow


@dataclass(frozen=True)
class Turn:
    role: str
    content: str
    action: str | None = None


class ConversationStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

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
    ) -> None:
        with self.session() as s, s.begin():
            s.add(MessageRow(conversation_id=conversation_id, role="user", content=question, language=language))
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
