"""Abuse limits per API key: request rates (the ``limits`` library, moving windows, in memory, in the
service's database — ``database``, shared by several workers — or a store such as Redis) and
concurrent answer streams (per process)."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from limits import RateLimitItem, parse_many, storage, strategies
from sqlalchemy.engine import Engine

from .errors import ConfigError, RateLimited
from .ratestore import DatabaseStorage


class Quota:
    def __init__(
        self,
        *,
        customer: str,
        staff: str,
        widget: str = "120/minute;20000/day",
        storage_uri: str = "memory://",
        streams: int = 2,
        engine: Engine | None = None,  # for storage_uri "database"
    ) -> None:
        try:
            self._items = {"customer": parse_many(customer), "staff": parse_many(staff), "widget": parse_many(widget)}
            if storage_uri == "database":
                if engine is None:
                    raise ConfigError("RAG_RATE_LIMIT_STORAGE=database needs the service's database")
                self._limiter = strategies.MovingWindowRateLimiter(DatabaseStorage(engine))
            else:
                self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(storage_uri))
        except (ValueError, ConfigError) as exc:
            raise ConfigError(f"rate limits: {exc}") from exc
        self._streams_allowed = streams
        self._streams: Counter[str] = Counter()
        self._lock = threading.Lock()

    def hit(self, who: str, *, customer: bool, widget: bool = False) -> None:
        """Count one request of ``who``; RateLimited (with the seconds until a slot frees) when any
        of its limits is used up. A refused request costs nothing. ``widget``: a web chat's widget key
        opening a visitor session (every new visitor of the site counts against it)."""
        tier = "widget" if widget else "customer" if customer else "staff"
        items: list[RateLimitItem] = self._items[tier]
        full = [item for item in items if not self._limiter.test(item, who)]
        if full:
            reset = max(self._limiter.get_window_stats(item, who).reset_time for item in full)
            raise RateLimited(f"too many requests: {full[0]}", retry_after_s=max(1, math.ceil(reset - time.time())))
        for item in items:
            self._limiter.hit(item, who)

    @contextmanager
    def stream(self, who: str) -> Iterator[None]:
        """Hold one of ``who``'s concurrent streams while the body runs."""
        with self._lock:
            if self._streams[who] >= self._streams_allowed:
                allowed = self._streams_allowed
                raise RateLimited(f"at most {allowed} answers may stream at once per key", retry_after_s=2)
            self._streams[who] += 1
        try:
            yield
        finally:
            with self._lock:
                self._streams[who] -= 1
                if not self._streams[who]:
                    del self._streams[who]
