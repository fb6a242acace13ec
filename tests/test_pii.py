"""Personal data is redacted before it is stored or sent on: through real HTTP, a real database file
and a real webhook receiver; and the redaction's own figures on the labelled sample."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rag_service.config import Settings
from rag_service.pii import Redactor

RAW = {
    "EMAIL": "jana.weber@example.de",
    "PHONE": "0171 2345678",
    "IBAN": "DE89 3704 0044 0532 0130 00",
    "NAME": "Jana Weber",
    "CUSTOMER_NUMBER": "4711-0815",
}
MESSAGE = (
    "Hallo, mein Name ist Jana Weber, Kundennummer 4711-0815. Bitte buchen Sie vom Konto "
    "DE89 3704 0044 0532 0130 00 ab und schreiben Sie an jana.weber@example.de oder rufen Sie 0171 2345678 an."
)


def test_redactor_replaces_each_kind_by_its_type() -> None:
    redacted = Redactor().redact(MESSAGE)
    for kind, raw in RAW.items():
        assert raw not in redacted and f"<{kind}>" in redacted, (kind, redacted)
    assert "Bitte buchen Sie vom Konto" in redacted  # the rest of the message is kept
    assert Redactor().redact("Was kostet das Abo City? 34,90 € im Monat, ab 2025.") == (
        "Was kostet das Abo City? 34,90 € im Monat, ab 2025."
    )  # prices and years are no phone numbers


def test_stored_messages_tickets_feedback_and_handoffs_are_redacted(tmp_path: Path, app_client: Any) -> None:
    client, _ = app_client(
        tmp_path / "data", *["Das Abo City kostet 34,90 € [1]."] * 4, answer_mode="generate", query_translation=False
    )
    answer = client.post("/v1/answer", json={"question": MESSAGE, "customer_id": "c-1"}).json()
    human = f"Ich möchte mit einem Menschen sprechen. {MESSAGE}"
    handoff = client.post("/v1/answer", json={"question": human, "customer_id": "c-1"}).json()
    assert handoff["action"] == "handoff"
    rated = {"answer_id": answer["id"], "rating": "down", "comment": f"Ruft mich an: {RAW['PHONE']}"}
    assert client.post("/v1/feedback", json=rated).status_code == 201
    client.put("/v1/customers/c-1", json={"name": "Kundin"})
    ticket = {"messages": [{"role": "customer", "text": MESSAGE}], "customer_id": "c-1"}
    assert client.post("/v1/drafts", json=ticket).status_code == 201

    held = client.get("/v1/customers/c-1/export").text
    assert "<EMAIL>" in held and "<IBAN>" in held and "<NAME>" in held
    shown = client.get(f"/v1/handoffs/{handoff['handoff_id']}").text
    assert "<PHONE>" in shown
    client.app.state.components.engine.dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*.db*"))
    for raw in RAW.values():
        assert raw.encode() not in stored and raw not in held and raw not in shown, raw


def test_raw_transcripts_only_with_a_retention_period() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="RAG_RETENTION_DAYS"):
        Settings(keep_raw_transcripts=True)
    assert Settings(keep_raw_transcripts=True, retention_days=30).keep_raw_transcripts


def test_the_labelled_sample_is_measured_per_type(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from eval.cli import main

    out = tmp_path / "pii.json"
    run = CliRunner().invoke(main, ["pii", "--split", "all", "--out", str(out)])
    assert run.exit_code == 0, run.output
    table = json.loads(out.read_text())["table"]
    for kind in ("EMAIL", "PHONE", "IBAN", "CARD"):
        assert table[f"{kind}/all"]["recall"] >= 0.7, kind  # the checksum-validated kinds
    assert table["NAME/de"]["labelled"] > 0 and table["NAME/en"]["labelled"] > 0
    assert all(v["precision"] is None or v["precision"] >= 0.5 for v in table.values())
