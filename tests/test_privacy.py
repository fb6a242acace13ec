"""GDPR: export everything held about a customer, erase it so that none of their words remain in the
data's bytes, and purge conversations past the retention period — through real HTTP, a real SQLite
file and the real CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

MARKERS = ["Zerlina Quastfeld", "NOTE-58213", "QX-99137", "FEEDBACK-77310", "DRAFTMARK-4410"]
KEEP = "KEEP-31337"


def _files(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def _fill(client) -> str:  # type: ignore[no-untyped-def]
    """A customer with a profile, two conversations (one handed off), feedback and a draft; and a
    second customer who must survive the erasure. Returns an answer id of the first."""
    put = client.put("/v1/customers/c-zq", json={"name": "Zerlina Quastfeld", "notes": "NOTE-58213"})
    assert put.status_code == 201
    client.put("/v1/customers/c-keep", json={"name": "Karl Bleibt", "notes": KEEP})
    ask = {"question": "Meine Kundennummer ist QX-99137. Wie lange dauert der Versand?", "customer_id": "c-zq"}
    answer = client.post("/v1/answer", json=ask).json()
    human = {"question": "Ich möchte mit einem Menschen sprechen, hier Zerlina Quastfeld.", "customer_id": "c-zq"}
    assert client.post("/v1/answer", json=human).json()["action"] == "handoff"
    rated = {"answer_id": answer["id"], "rating": "down", "comment": "FEEDBACK-77310 war falsch"}
    assert client.post("/v1/feedback", json=rated).status_code == 201
    ticket = {
        "messages": [{"role": "customer", "text": "DRAFTMARK-4410: Wo bleibt mein Paket?"}],
        "customer_id": "c-zq",
    }
    assert client.post("/v1/drafts", json=ticket).status_code == 201
    kept = {"question": f"{KEEP}: Wie lange dauert der Versand?", "customer_id": "c-keep"}
    assert client.post("/v1/answer", json=kept).status_code == 200
    client.app.state.components.keys.create(role="customer", name="widget of c-zq", customer_id="c-zq")
    return str(answer["id"])


def test_export_then_erase_leaves_no_trace_in_the_files(tmp_path: Path, app_client) -> None:  # type: ignore[no-untyped-def]
    replies = ["Der Versand dauert 2 Tage [1]."] * 10
    client, _ = app_client(  # raw transcripts: the customer's own words must be erasable too
        tmp_path / "data",
        *replies,
        answer_mode="generate",
        query_translation=False,
        keep_raw_transcripts=True,
        retention_days=365,
    )
    answer_id = _fill(client)

    export = client.get("/v1/customers/c-zq/export")
    assert export.status_code == 200
    held = export.json()
    assert held["profile"]["name"] == "Zerlina Quastfeld"
    assert len(held["conversations"]) == 2 and len(held["handoffs"]) == 1 and len(held["drafts"]) == 1
    assert held["feedback"][0]["answer_id"] == answer_id
    assert held["api_keys"][0]["name"] == "widget of c-zq" and "secret" not in str(held["api_keys"])
    for marker in MARKERS:
        assert marker in export.text, marker
    assert KEEP not in export.text

    _quote_in_alert_and_suggestion(client.app.state.components)
    client.app.state.components.engine.dispose()
    before = _files(tmp_path)
    assert all(m.encode() in before for m in MARKERS)  # the grep below can find them

    erased = client.delete("/v1/customers/c-zq")
    assert erased.status_code == 200
    deleted = erased.json()["deleted"]
    assert deleted["conversations"] == 2 and deleted["handoffs"] == 1 and deleted["profile"] == 1
    assert deleted["api_keys"] == 1 and deleted["feedback"] == 1 and deleted["drafts"] == 1
    assert deleted["quoted"] == 2  # an alert's example and a (rejected) suggestion quoted the customer
    client.app.state.components.engine.dispose()
    after = _files(tmp_path)
    for marker in MARKERS:
        assert marker.encode() not in after, f"{marker} is still in the data files"
    assert KEEP.encode() in after  # the other customer is untouched
    assert client.get("/v1/customers/c-zq/export").status_code == 404
    assert client.delete("/v1/customers/c-zq").status_code == 404
    assert client.get("/v1/customers/c-keep").json()["notes"] == KEEP


def _quote_in_alert_and_suggestion(components) -> None:  # type: ignore[no-untyped-def]
    """The customer's question quoted where alerts and suggested articles keep examples."""
    from rag_service.db import AlertRow, SuggestionRow, now

    asked = [
        m["content"]
        for c in components.conversations.of_customer("c-zq")
        for m in components.conversations.transcript(c)
        if m["role"] == "user" and "QX-99137" in m["content"]
    ]
    assert asked
    with Session(components.engine) as s, s.begin():
        s.add(
            AlertRow(
                id="alr_t",
                key="volume:t",
                kind="volume",
                topic="t",
                title="t",
                count=5,
                usual=0.2,
                examples_json=json.dumps([asked[0], KEEP]),
                window_start=now(),
                created_at=now(),
            )
        )
        s.add(
            SuggestionRow(
                id="sug_t",
                key="gap:t",
                kind="gap",
                status="rejected",
                title=asked[0],
                asked=2,
                missing="-",
                questions_json=json.dumps(asked),
                proposed="# -",
                created_at=now(),
            )
        )


def _backdate(engine, conversation_id: str, days: int) -> None:  # type: ignore[no-untyped-def]
    then = datetime.now(UTC) - timedelta(days=days)
    with engine.begin() as c:
        c.execute(text("UPDATE conversations SET created_at = :t WHERE id = :c"), {"t": then, "c": conversation_id})
        c.execute(
            text("UPDATE messages SET created_at = :t WHERE conversation_id = :c"), {"t": then, "c": conversation_id}
        )


def test_retention_purges_old_conversations_at_start_up(tmp_path: Path, app_client) -> None:  # type: ignore[no-untyped-def]
    database = f"sqlite:///{tmp_path}/retention.db"
    replies = ["Der Versand dauert 2 Tage [1]."] * 4
    client, _ = app_client(tmp_path / "data", *replies, answer_mode="generate", database_url=database)
    for cid in ("old", "recent"):
        body = {"question": f"Wie lange dauert der Versand? OLDMARK-{cid}", "conversation_id": cid}
        assert client.post("/v1/answer", json=body).status_code == 200
    components = client.app.state.components
    _backdate(components.engine, "old", 40)
    _backdate(components.engine, "recent", 10)
    client.__exit__(None, None, None)

    restarted, _ = app_client(tmp_path / "data", answer_mode="generate", database_url=database, retention_days=30)
    conversations = restarted.app.state.components.conversations
    for _ in range(50):  # the purge runs in the background right after start-up
        if not conversations.exists("old"):
            break
        import time

        time.sleep(0.1)
    assert not conversations.exists("old") and conversations.exists("recent")
    restarted.app.state.components.engine.dispose()
    stored = _files(tmp_path)
    assert b"OLDMARK-old" not in stored and b"OLDMARK-recent" in stored


def test_cli_exports_and_erases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_client) -> None:  # type: ignore[no-untyped-def]
    from rag_service.admin import main

    database = f"sqlite:///{tmp_path}/cli.db"
    client, _ = app_client(
        tmp_path / "data", "Der Versand dauert 2 Tage [1].", answer_mode="generate", database_url=database
    )
    client.put("/v1/customers/c-9", json={"name": "Ottilie Cli"})
    client.post("/v1/answer", json={"question": "Wie lange dauert der Versand?", "customer_id": "c-9"})
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_DATABASE_URL", database)
    runner = CliRunner()
    exported = runner.invoke(main, ["customers", "export", "c-9"])
    assert exported.exit_code == 0 and "Ottilie Cli" in exported.output and "Wie lange dauert" in exported.output
    erased = runner.invoke(main, ["customers", "erase", "c-9", "--yes"])
    assert erased.exit_code == 0 and "1 conversations" in erased.output
    assert runner.invoke(main, ["customers", "export", "c-9"]).exit_code != 0
    assert runner.invoke(main, ["customers", "purge"]).exit_code != 0  # no period given
