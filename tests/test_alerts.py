"""Proactive alerts: questions recorded with their topic (the nearest article) and tone by the real
answer path; a spike of questions, or of upset ones, on one topic within an hour against its usual
rate raises one alert, shown by GET /v1/alerts and the dashboard and sent to the signed webhook; a
topic that is always this busy raises nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from rag_service.db import ConversationRow, MessageRow, now
from rag_service.desk.alerts import Alerts, poisson_tail
from rag_service.desk.webhooks import WebhookNotifier


def _seed(
    engine: Any, topic: str, count: int, *, hours_ago: float, sentiment: str = "neutral", spread_h: float = 0
) -> None:
    """``count`` questions on ``topic``, starting ``hours_ago`` and spread over ``spread_h`` hours."""
    with Session(engine) as s, s.begin():
        for i in range(count):
            at = now() - timedelta(hours=hours_ago) + timedelta(hours=spread_h * i / max(count, 1))
            cid = f"c-{topic}-{hours_ago}-{i}"
            s.add(ConversationRow(id=cid, created_at=at))
            s.add(
                MessageRow(
                    conversation_id=cid,
                    role="user",
                    content=f"Frage {i} zu {topic}",
                    language="de",
                    topic=topic,
                    sentiment=sentiment,
                    created_at=at,
                )
            )


def test_the_answer_path_records_each_question_s_topic_and_tone(kb_client: Any) -> None:
    client, generator = kb_client(answer_mode="generate", answer_cache=False)
    generator.replies.extend(["Das Abo City kostet 34,90 € pro Monat [1]."] * 2)
    client.post("/v1/answer", json={"question": "Was kostet das Abo City?"})
    client.post("/v1/answer", json={"question": "Was kostet das Abo City?? Das ist ja unverschämt!!"})
    with Session(client.app.state.components.engine) as s:
        rows = s.execute(select(MessageRow.topic, MessageRow.sentiment).where(MessageRow.role == "user")).all()
    assert [r.topic for r in rows] == ["abos-und-preise.md"] * 2
    assert [r.sentiment for r in rows] == ["neutral", "negative"]


def test_a_spike_raises_one_alert_on_the_api_the_dashboard_and_the_signed_webhook(kb_client: Any) -> None:
    received: list[httpx.Request] = []

    def hook(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    client, _ = kb_client(auth="keys")
    components = client.app.state.components
    notifier = WebhookNotifier(
        "https://hooks.example/rag", "s3cret", client=httpx.Client(transport=httpx.MockTransport(hook))
    )
    components.alerts = Alerts(components.engine, title_of=lambda doc: "Panne und Reparatur", notify=notifier.send)
    engine = components.engine
    _seed(engine, "pannenhilfe.txt", 7, hours_ago=24 * 7, spread_h=24 * 6)  # about one a day
    _seed(engine, "pannenhilfe.txt", 9, hours_ago=0.8, spread_h=0.5)  # nine in the last hour
    _seed(engine, "abos-und-preise.md", 7 * 24 * 10, hours_ago=24 * 7, spread_h=24 * 7)  # always ten an hour
    _seed(engine, "abos-und-preise.md", 11, hours_ago=0.9, spread_h=0.8)
    _seed(engine, "kuendigung.md", 7 * 24 * 6, hours_ago=24 * 7, spread_h=24 * 7)  # always six an hour, calm
    _seed(engine, "kuendigung.md", 6, hours_ago=0.5, spread_h=0.4, sentiment="negative")  # upset, never before

    raised = components.alerts.check()
    assert sorted((a.topic, a.kind) for a in raised) == [
        ("kuendigung.md", "negative"),
        ("pannenhilfe.txt", "volume"),
    ]
    assert components.alerts.check() == []  # once per topic, kind and hour
    notifier.flush()
    notifier.close()
    events = [json.loads(r.content) for r in received]
    assert sorted(e["alert"]["topic"] for e in events) == ["kuendigung.md", "pannenhilfe.txt"]
    first = received[0]
    assert first.headers["X-RAG-Event"] == "alert.raised"
    assert (
        first.headers["X-RAG-Signature"] == "sha256=" + hmac.new(b"s3cret", first.content, hashlib.sha256).hexdigest()
    )
    volume = next(e["alert"] for e in events if e["alert"]["kind"] == "volume")
    assert volume["count"] == 9 and volume["usual_per_hour"] < 0.5 and "Panne und Reparatur" in volume["summary"]

    keys = components.keys
    agent = {"Authorization": f"Bearer {keys.create(role='agent', name='a')[1]}"}
    listed = client.get("/v1/alerts", headers=agent)
    assert listed.status_code == 200 and {a["topic"] for a in listed.json()} == {"kuendigung.md", "pannenhilfe.txt"}
    customer = {"Authorization": f"Bearer {keys.create(role='customer', name='c', customer_id='c-1')[1]}"}
    assert client.get("/v1/alerts", headers=customer).status_code == 403
    qa = {"Authorization": f"Bearer {keys.create(role='qa', name='q')[1]}"}
    page = client.get("/dashboard", headers=qa).text
    assert "<h2>Alerts</h2>" in page and "Panne und Reparatur" in page and "upset questions" in page


def test_poisson_tail() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert abs(poisson_tail(1, 2.0) - (1 - 2.718281828**-2)) < 1e-6
    assert poisson_tail(9, 0.2) < 1e-9 < poisson_tail(3, 0.2)
