"""Request counts of the rate limits in the service's own database (``RAG_RATE_LIMIT_STORAGE=database``),
so several API workers or replicas share one count per key without another server. A ``limits``
storage with moving windows: one row per counted request, the key's old rows dropped as it is counted;
on PostgreSQL a transaction-scoped advisory lock per key makes check-and-count atomic across processes
(SQLite serialises writers itself)."""

from __future__ import annotations

import time
import zlib

from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .db import RateEventRow


class DatabaseStorage(Storage, MovingWindowSupport):
    STORAGE_SCHEME = ["rag-database"]  # noqa: RUF012  (as limits declares it) built with an engine, not a URI

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._session = sessionmaker(engine)
        self._postgres = engine.dialect.name == "postgresql"

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def _lock(self, s: Session, key: str) -> None:
        if self._postgres:
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": zlib.crc32(key.encode("utf-8"))})

    def _count(self, s: Session, key: str, since: float) -> tuple[float | None, int]:
        oldest, n = s.execute(
            select(func.min(RateEventRow.at), func.count()).where(RateEventRow.key == key, RateEventRow.at >= since)
        ).one()
        return oldest, int(n)

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._session.begin() as s:
            self._lock(s, key)
            s.execute(delete(RateEventRow).where(RateEventRow.key == key, RateEventRow.at < now - expiry))
            _, n = self._count(s, key, now - expiry)
            if n + amount > limit:
                return False
            s.add_all(RateEventRow(key=key, at=now) for _ in range(amount))
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        with self._session() as s:
            oldest, n = self._count(s, key, now - expiry)
        return (oldest if oldest is not None else now), n

    # the fixed-window interface of a limits storage, over the same rows
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self._session.begin() as s:
            self._lock(s, key)
            s.add_all(RateEventRow(key=key, at=now) for _ in range(amount))
            s.flush()
            return self._count(s, key, now - expiry)[1]

    def get(self, key: str) -> int:
        with self._session() as s:
            return self._count(s, key, 0.0)[1]

    def get_expiry(self, key: str) -> float:
        with self._session() as s:
            oldest, _ = self._count(s, key, 0.0)
        return oldest if oldest is not None else time.time()

    def check(self) -> bool:
        try:
            with self._session() as s:
                s.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self._session.begin() as s:
            return int(s.query(RateEventRow).delete())

    def clear(self, key: str) -> None:
        with self._session.begin() as s:
            s.execute(delete(RateEventRow).where(RateEventRow.key == key))
