"""Proactive alerts: a spike of questions, or of upset questions, on one topic within the last hour,
against that topic's usual hourly rate over the week before.

A question's topic is the knowledge-base article it is nearest to (the first passage the answer path
retrieved; recorded with the question), so topics come from the company's own articles, and a spike
of questions nobody can answer yet ("no network in Kiel since 9:00") still lands on the article it
is closest to. Its tone is recorded too (``rag_service.tone``; anger and complaints count as
negative).

A topic spikes when the last hour holds at least ``MIN_COUNT`` such questions and so many would
happen by chance with probability under ``P_VALUE`` at its usual rate (a Poisson tail; a topic never
asked before counts as ``FLOOR_RATE`` an hour). An alert is raised once per topic, kind and clock
hour, shown on the dashboard and sent to the signed webhook (``alert.raised``).
"""

from __future__ import annotations

import json
import math
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ..db import AlertRow, MessageRow, now, utc

WINDOW = timedelta(hours=1)
BASELINE = timedelta(days=7)
MIN_COUNT = 5
P_VALUE = 0.001
FLOOR_RATE = 0.2  # questions per hour assumed for a topic without history


@dataclass(frozen=True)
class Alert:
    id: str
    kind: str  # volume | negative
    topic: str
    title: str
    count: int
    usual: float
    examples: list[str]
    window_start: datetime
    created_at: datetime


def poisson_tail(k: int, rate: float) -> float:
    """P(X >= k) for X ~ Poisson(rate)."""
    if k <= 0:
        return 1.0
    term = math.exp(-rate)
    below = term
    for i in range(1, k):
        term *= rate / i
        below += term
    return max(0.0, 1.0 - below)


def _alert(r: AlertRow) -> Alert:
    return Alert(
        id=r.id,
        kind=r.kind,
        topic=r.topic,
        title=r.title,
        count=r.count,
        usual=r.usual,
        examples=json.loads(r.examples_json),
        window_start=utc(r.window_start),
        created_at=utc(r.created_at),
    )


class Alerts:
    """The one owner of the ``alerts`` table."""

    def __init__(
        self,
        engine: Engine,
        *,
        title_of: Callable[[str], str | None] = lambda topic: None,
        notify: Callable[[dict[str, Any], Callable[[], None]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.title_of = title_of  # an article's title by its doc id
        self.notify = notify
        self._session = sessionmaker(engine, expire_on_commit=False)

    def check(self, at: datetime | None = None) -> list[Alert]:
        """Raise the alerts due at ``at`` (default now); the newly raised ones."""
        at = at or now()
        start = at - WINDOW
        with Session(self.engine) as s:
            rows = s.execute(
                select(MessageRow.topic, MessageRow.sentiment, MessageRow.content, MessageRow.created_at).where(
                    MessageRow.role == "user",
                    MessageRow.topic.is_not(None),
                    MessageRow.created_at >= start - BASELINE,
                    MessageRow.created_at < at,
                )
            ).all()
        recent: dict[str, Counter[str]] = defaultdict(Counter)
        before: dict[str, Counter[str]] = defaultdict(Counter)
        examples: dict[tuple[str, str], list[str]] = defaultdict(list)
        for topic, sentiment, content, created in rows:
            if topic is None:
                continue
            kinds = ["volume"] + (["negative"] if sentiment == "negative" else [])
            target = recent if utc(created) >= start else before
            for kind in kinds:
                target[topic][kind] += 1
                if target is recent:
                    examples[(topic, kind)].append(content)
        hours = BASELINE / WINDOW
        raised = []
        for topic, counts in recent.items():
            for kind, count in counts.items():
                usual = max(before[topic][kind] / hours, FLOOR_RATE)
                if count >= MIN_COUNT and poisson_tail(count, usual) < P_VALUE:
                    alert = self._raise(kind, topic, count, usual, examples[(topic, kind)][-3:], at)
                    if alert is not None:
                        raised.append(alert)
        return raised

    def _raise(self, kind: str, topic: str, count: int, usual: float, shown: list[str], at: datetime) -> Alert | None:
        hour = at.replace(minute=0, second=0, microsecond=0)
        row = AlertRow(
            id=f"alr_{uuid.uuid4().hex[:16]}",
            key=f"{kind}:{topic}:{hour.isoformat()}"[:200],
            kind=kind,
            topic=topic,
            title=self.title_of(topic) or topic,
            count=count,
            usual=round(usual, 3),
            examples_json=json.dumps(shown, ensure_ascii=False),
            window_start=at - WINDOW,
            created_at=at,
        )
        try:
            with self._session() as s, s.begin():
                s.add(row)
        except IntegrityError:
            return None  # raised already this hour (by this or another worker)
        alert = _alert(row)
        if self.notify is not None:
            self.notify(alert_event(alert), lambda: self._delivered(alert.id))
        return alert

    def _delivered(self, alert_id: str) -> None:
        with self._session() as s, s.begin():
            s.execute(update(AlertRow).where(AlertRow.id == alert_id).values(webhook_delivered=True))

    def recent(self, since: datetime | None = None) -> list[Alert]:
        """Alerts raised since ``since`` (default the last 24 hours), newest first."""
        since = since or now() - timedelta(hours=24)
        with self._session() as s:
            rows = s.scalars(
                select(AlertRow).where(AlertRow.created_at >= since).order_by(AlertRow.created_at.desc())
            ).all()
        return [_alert(r) for r in rows]


def alert_event(alert: Alert) -> dict[str, Any]:
    what = "questions" if alert.kind == "volume" else "upset questions"
    return {
        "type": "alert.raised",
        "alert": {
            "id": alert.id,
            "kind": alert.kind,
            "topic": alert.topic,
            "title": alert.title,
            "count": alert.count,
            "usual_per_hour": alert.usual,
            "summary": f"{alert.count} {what} about {alert.title!r} in the last hour (usually {alert.usual:.1f})",
            "examples": alert.examples,
            "window_start": alert.window_start.isoformat(timespec="seconds"),
            "created_at": alert.created_at.isoformat(timespec="seconds"),
        },
    }


def scrub_alerts(engine: Engine, texts: Collection[str]) -> int:
    """A customer's erasure: their questions leave the alerts' examples; how many alerts changed."""
    if not texts:
        return 0
    changed = 0
    with Session(engine) as s, s.begin():
        for row in s.scalars(select(AlertRow)):
            examples = json.loads(row.examples_json)
            kept = [e for e in examples if e not in texts]
            if len(kept) != len(examples):
                row.examples_json = json.dumps(kept, ensure_ascii=False)
                changed += 1
    return changed
