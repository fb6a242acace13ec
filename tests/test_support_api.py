"""Handoffs, customer profiles and feedback through the HTTP API; the webhook's signing and
retries; schema migrations of an older database."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, inspect, text

from rag_service.db import current_revision, head_revision, make_engine, upgrade
from rag_service.desk.support import Handoff
from rag_service.desk.webhooks import WebhookNotifier, handoff_event


def test_customer_is_handed_off_and_an_agent_claims_it(make_client: Any) -> None:
    client, _ = make_client()
    first = client.post("/v1/answer", json={"question": "Wie kündige ich mein Abo?", "customer_id": "c-17"})
    cid = first.json()["conversation_id"]
    r = client.post(
        "/v1/answer",
        json={"question": "das ist jetzt das dritte Mal, ich will einen Menschen", "conversation_id": cid},
    )
    body = r.json()
    assert body["action"] == "handoff" and body["reason"] == "explicit_request"
    assert "Mitarbeiter" in body["answer"] and body["handoff_id"]
    queue = client.get("/v1/handoffs", params={"status": "open"}).json()["data"]
    assert [h["id"] for h in queue] == [body["handoff_id"]]
    handoff = queue[0]
    assert handoff["conversation_id"] == cid and handoff["customer_id"] == "c-17"  # known from turn 1
    assert "asked for a person" in handoff["summary"] and "das dritte Mal" in handoff["summary"]
    assert "Wie kündige ich mein Abo?" in handoff["summary"]  # what they asked before
    assert [m["role"] for m in handoff["transcript"]] == ["user", "assistant", "user", "assistant"]
    # asking again in the same conversation does not open a second handoff
    again = client.post("/v1/answer", json={"question": "Mensch bitte", "conversation_id": cid}).json()
    assert again["handoff_id"] == body["handoff_id"]
    claimed = client.post(f"/v1/handoffs/{body['handoff_id']}/claim", json={"agent": "anna"})
    assert (
        claimed.status_code == 200 and claimed.json()["status"] == "claimed" and claimed.json()["claimed_by"] == "anna"
    )
    late = client.post(f"/v1/handoffs/{body['handoff_id']}/claim", json={"agent": "ben"})
    assert late.status_code == 409 and late.json()["error"]["type"] == "conflict"
    assert client.get("/v1/handoffs", params={"status": "open"}).json()["data"] == []
    closed = client.post(f"/v1/handoffs/{body['handoff_id']}/close", json={"agent": "anna"}).json()
    assert closed["status"] == "closed"
    assert client.post("/v1/handoffs/ho_nope/claim", json={"agent": "anna"}).status_code == 404


def test_two_refusals_in_a_row_hand_off(make_client: Any) -> None:
    client, _ = make_client("NO_ANSWER", "NO_ANSWER")
    first = client.post("/v1/answer", json={"question": "Was kostet das Abo City im Ausland?"}).json()
    assert first["action"] == "refuse"
    second = client.post(
        "/v1/answer",
        json={"question": "Und was kostet das Abo City in der Schweiz?", "conversation_id": first["conversation_id"]},
    ).json()
    assert (second["action"], second["reason"]) == ("handoff", "repeated_failure")
    handoff = client.get(f"/v1/handoffs/{second['handoff_id']}").json()
    assert "could not answer twice" in handoff["summary"] and "Not answered by the assistant" in handoff["summary"]


def test_new_handoffs_reach_the_notifier(make_client: Any) -> None:
    client, _ = make_client()
    seen: list[Handoff] = []

    class Recorder:
        def handoff_created(self, handoff: Handoff) -> None:
            seen.append(handoff)

    client.app.state.components.pipeline.notifier = Recorder()  # type: ignore[attr-defined]
    body = client.post("/v1/answer", json={"question": "I want to talk to a human"}).json()
    assert [h.id for h in seen] == [body["handoff_id"]] and seen[0].reason == "explicit_request"


def _handoff() -> Handoff:
    from datetime import UTC, datetime

    return Handoff(
        "ho_1",
        "conv_1",
        None,
        "ans_1",
        "frustration",
        "de",
        "summary",
        [],
        "open",
        None,
        None,
        datetime.now(UTC),
        False,
    )


def test_webhook_is_signed_and_retried_with_backoff() -> None:
    calls: list[httpx.Request] = []
    answers = iter([503, 429, 200])

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(next(answers))

    delays: list[float] = []
    hook = WebhookNotifier(
        "https://hooks.example/rag",
        "s3cret",
        client=httpx.Client(transport=httpx.MockTransport(handler)),
        sleep=delays.append,
    )
    try:
        assert hook.deliver(handoff_event(_handoff())) is True
    finally:
        hook.close()
    assert len(calls) == 3 and delays == [1.0, 2.0]
    body = calls[-1].content
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert calls[-1].headers["X-RAG-Signature"] == expected
    assert calls[-1].headers["X-RAG-Event"] == "handoff.created"
    assert json.loads(body)["handoff"]["reason"] == "frustration"


def test_webhook_gives_up_on_a_rejection_and_after_its_retries() -> None:
    rejected = WebhookNotifier(
        "https://hooks.example/rag",
        "k",
        client=httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(400))),
    )
    failing_calls = []

    def down(request: httpx.Request) -> httpx.Response:
        failing_calls.append(request)
        raise httpx.ConnectError("refused")

    down_hook = WebhookNotifier(
        "https://hooks.example/rag",
        "k",
        retries=2,
        client=httpx.Client(transport=httpx.MockTransport(down)),
        sleep=lambda s: None,
    )
    try:
        assert rejected.deliver(handoff_event(_handoff())) is False
        assert down_hook.deliver(handoff_event(_handoff())) is False and len(failing_calls) == 3
    finally:
        rejected.close()
        down_hook.close()


def test_customer_profiles(make_client: Any) -> None:
    client, _ = make_client()
    profile = {"name": "Jana Weber", "language": "de", "plan": "Abo City", "notes": "Kundin seit 2019"}
    created = client.put("/v1/customers/c-17", json=profile)
    assert created.status_code == 201 and created.json()["name"] == "Jana Weber"
    updated = client.put("/v1/customers/c-17", json={**profile, "plan": "Abo Cargo"})
    assert updated.status_code == 200 and updated.json()["created_at"] == created.json()["created_at"]
    assert client.get("/v1/customers/c-17").json()["plan"] == "Abo Cargo"
    assert client.get("/v1/customers/c-99").status_code == 404
    bad = client.put("/v1/customers/c-17", json={"language": "fr"})
    assert bad.status_code == 422 and client.get("/v1/customers/c-17").json()["plan"] == "Abo Cargo"  # nothing lost


def test_feedback_on_answers(make_client: Any) -> None:
    client, _ = make_client("Das Abo City kostet 34,90 € pro Monat [1].")
    answer = client.post("/v1/answer", json={"question": "Was kostet das Abo City?"}).json()
    r = client.post("/v1/feedback", json={"answer_id": answer["id"], "rating": "up", "comment": "danke"})
    assert r.status_code == 201 and r.json()["rating"] == "up"
    assert (
        client.post("/v1/feedback", json={"answer_id": answer["id"], "rating": "down", "source": "agent"}).status_code
        == 201
    )
    assert client.post("/v1/feedback", json={"answer_id": "ans_unknown", "rating": "up"}).status_code == 404
    assert client.post("/v1/feedback", json={"answer_id": answer["id"], "rating": "meh"}).status_code == 422


def test_a_database_of_the_first_release_is_upgraded_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    old = create_engine(url)
    with old.begin() as c:  # the first release's schema, created without migrations
        c.execute(
            text(
                "CREATE TABLE conversations (id VARCHAR(64) PRIMARY KEY, customer_id VARCHAR(128), created_at DATETIME)"
            )
        )
        c.execute(
            text(
                "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id VARCHAR(64), role VARCHAR(16), "
                "content TEXT, answer_id VARCHAR(64), action VARCHAR(16), reason VARCHAR(64), language VARCHAR(8), "
                "citations_json TEXT, created_at DATETIME)"
            )
        )
        c.execute(text("INSERT INTO conversations (id) VALUES ('conv_old')"))
    old.dispose()
    engine = make_engine(url)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert {"customers", "handoffs", "feedback", "drafts", "api_keys", "answer_cache"} <= set(
        inspect(engine).get_table_names()
    )
    with engine.connect() as c:
        assert c.execute(text("SELECT id FROM conversations")).scalar() == "conv_old"  # data kept
    upgrade(engine)  # idempotent
    engine.dispose()


@pytest.mark.parametrize("url", ["sqlite:///{tmp}/fresh.db"])
def test_a_fresh_database_gets_every_table(tmp_path: Path, url: str) -> None:
    engine = make_engine(url.format(tmp=tmp_path))
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_a_known_customer_gets_answers_for_their_plan_and_language(make_client: Any) -> None:
    reply = "Ihr Abo City kostet 34,90 € pro Monat [1]."
    client, gen = make_client(reply, reply)
    client.put("/v1/customers/c-42", json={"name": "Jana Weber", "language": "de", "plan": "Abo City"})
    body = client.post("/v1/answer", json={"question": "ok?", "customer_id": "c-42"}).json()
    assert body["language"] == "de"  # "ok?" says nothing; the profile does
    body = client.post("/v1/answer", json={"question": "Was kostet mein Abo?", "customer_id": "c-42"}).json()
    assert "The customer's plan: Abo City" in gen.user_prompts[-1]
    passages = gen.user_prompts[-1].split("Question:")[0]
    assert "34,90" in passages  # the plan's price passage was retrieved for "my subscription"
    assert body["action"] == "answer"
