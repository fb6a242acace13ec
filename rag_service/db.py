"""The service's database: every table, the engine, and schema migrations (Alembic).

SQLite file under the data dir by default; any SQLAlchemy URL (PostgreSQL) by ``RAG_DATABASE_URL``.
The schema is created and upgraded only by the migrations in ``rag_service/migrations`` (run at
start-up, or by ``rag-admin db upgrade``), never by ``create_all``, so a database written by an
older release is upgraded in place instead of half-matching the code.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x7261675F6D6967  # "rag_mig": the advisory lock held while migrating PostgreSQL


def now() -> datetime:
    return datetime.now(UTC)


def utc(t: datetime) -> datetime:
    """SQLite hands stored times back without their zone; they were written in UTC."""
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class ConversationRow(Base):
    __tablename__ = "conversations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


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
    latency_ms: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    # a question's topic (the article it is nearest to) and tone, for the spike alerts
    topic: Mapped[str | None] = mapped_column(String(300))
    sentiment: Mapped[str | None] = mapped_column(String(16))


class CustomerRow(Base):
    __tablename__ = "customers"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    plan: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class HandoffRow(Base):
    __tablename__ = "handoffs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    answer_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    summary: Mapped[str] = mapped_column(Text)
    transcript_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | claimed | closed
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    webhook_delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


class FeedbackRow(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    answer_id: Mapped[str] = mapped_column(String(64), index=True)
    rating: Mapped[str] = mapped_column(String(8))  # up | down
    comment: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="customer")  # customer | agent
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


class DraftRow(Base):
    __tablename__ = "drafts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    ticket_json: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8))
    draft: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    suggested_action: Mapped[str] = mapped_column(String(32))
    citations_json: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))  # sent | edited | discarded
    final_text: Mapped[str | None] = mapped_column(Text)
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # customer | agent | qa | admin
    customer_id: Mapped[str | None] = mapped_column(String(128), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the secret, never the secret
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    origins: Mapped[str | None] = mapped_column(Text)  # space-separated; the key works only from these pages
    parent_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the widget key of a visitor key
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SuggestionRow(Base):
    """A suggested article change (rag_service/desk/learning.py); texts are redacted of personal data."""

    __tablename__ = "kb_suggestions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)  # draft:<id> or gap:<digest of the first label>
    kind: Mapped[str] = mapped_column(String(16))  # edited_draft | gap
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | accepted | rejected
    title: Mapped[str] = mapped_column(Text)
    questions_json: Mapped[str] = mapped_column(Text)
    asked: Mapped[int] = mapped_column(Integer)
    missing: Mapped[str] = mapped_column(Text)
    wording: Mapped[str | None] = mapped_column(Text)
    target_doc: Mapped[str | None] = mapped_column(String(300))
    proposed: Mapped[str] = mapped_column(Text)
    sources_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    doc_id: Mapped[str | None] = mapped_column(String(300))


class AlertRow(Base):
    """A spike on one topic (rag_service/desk/alerts.py)."""

    __tablename__ = "alerts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # kind, topic and hour: raised once
    kind: Mapped[str] = mapped_column(String(16))  # volume | negative
    topic: Mapped[str] = mapped_column(String(300))  # the article the questions are about
    title: Mapped[str] = mapped_column(Text)
    count: Mapped[int] = mapped_column(Integer)
    usual: Mapped[float] = mapped_column(Float)  # the topic's usual count per hour
    examples_json: Mapped[str] = mapped_column(Text)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    webhook_delivered: Mapped[bool] = mapped_column(Boolean, default=False)


class AnswerCacheRow(Base):
    """A cached answer (rag_service/answer/cache.py). Nothing the customer wrote is kept: the key is
    a digest of the question's terms, the vector a point in embedding space."""

    __tablename__ = "answer_cache"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    answer: Mapped[str] = mapped_column(Text)
    citations_json: Mapped[str] = mapped_column(Text)
    documents_json: Mapped[str] = mapped_column(Text)  # {doc_id: content hash} of the cited documents
    confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    last_hit_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now, index=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)


class RateEventRow(Base):
    """One request counted by a rate limit (rag_service/ratestore.py, RAG_RATE_LIMIT_STORAGE=database)."""

    __tablename__ = "rate_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), index=True)
    at: Mapped[float] = mapped_column(Float, index=True)  # seconds since the epoch


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """Deleted rows are overwritten with zeros, not left in free pages (an erased customer's words
    must not stay in the file)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(engine: Engine) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migrating process at a time: replicas and workers that start together on a fresh database
    would otherwise both create the same tables. PostgreSQL: a session advisory lock; a SQLite file:
    an exclusive lock on a file beside it (the processes share a machine)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                connection.commit()
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with open(f"{engine.url.database}.migrate-lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    else:
        yield


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision. A database created before migrations existed (the
    first release's tables, no ``alembic_version``) is stamped as revision 0001 first. Safe to run
    from several processes at once: one migrates, the others then find the newest revision."""
    from alembic import command

    cfg = _alembic_config(engine)
    with _migration_lock(engine), engine.begin() as connection:
        tables = set(inspect(connection).get_table_names())
        cfg.attributes["connection"] = connection  # type: ignore[attr-defined]
        if "conversations" in tables and "alembic_version" not in tables:
            log.info("database predates migrations: stamping revision 0001")
            command.stamp(cfg, "0001")  # type: ignore[arg-type]
        command.upgrade(cfg, "head")  # type: ignore[arg-type]


def head_revision() -> str:
    """The newest revision the migrations know."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(make_engine("sqlite://"))).get_current_head()  # type: ignore[arg-type]
    return str(head)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
