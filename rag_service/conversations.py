"""Conversations and their messages, in a SQL database through SQLAlchemy (SQLite by default,
any SQLAlchemy URL such as PostgreSQL by ``RAG_DATABASE_URL``). The answer pipeline reads the
recent turns of a conversation so a follow-up question ("and how much does it cost?") has context."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, create_engine, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class MessageRow(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    content: Mapped[str] = mapped_column(Text)
    answer_id: Mapped[str | None] = mapped_column(String(64), index=True)
    action: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    citations_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


@dataclass(frozen=True)
class Turn:
    role: str
    content: str
    action: str | None = None


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return create_engine(url, connect_args={"check_same_thread": False})
    return create_engine(url, pool_pre_ping=True)


class ConversationStore:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        Base.metadata.create_all(self.engine)
        self._session = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._session()

    def ensure(self, conversation_id: str | None, customer_id: str | None = None) -> str:
        """The given conversation (created on first use, so clients may choose their ids) or a new one."""
        cid = conversation_id or f"conv_{uuid.uuid4().hex[:20]}"
        with self.session() as s, s.begin():
            if s.get(ConversationRow, cid) is None:
                s.add(ConversationRow(id=cid, customer_id=customer_id))
        return cid

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
                )
            )

    def close(self) -> None:
        self.engine.dispose()
