"""The knowledge base learns from agents, through real HTTP on the real app: an edited draft and a
question refused again and again become suggested article changes (with the question, the missing
fact and the agent's wording, personal data redacted) on the API and the dashboard; nothing is indexed
until an admin accepts one, which writes a Markdown file into the knowledge-base folder and indexes
it; a rejected one does not come back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DRAFTED = "Das Abo City kostet 34,90 € pro Monat [1]."
SENT = (
    "Hallo Anna Schmidt, das Abo City kostet 34,90 € pro Monat. "
    "Studierende erhalten auf Nachweis einen Rabatt von zehn Prozent auf jedes Abo."
)
UNANSWERED = ["Gibt es einen Studentenrabatt?", "Bekommen Studenten Rabatt auf das Abo?", "Gibt es Studentenrabatt?"]


@pytest.fixture
def desk(kb_client: Any, tmp_path: Path) -> tuple[Any, dict[str, str], Path]:
    kb = tmp_path / "kb"
    client, generator = kb_client(auth="keys", answer_mode="generate", answer_cache=False, kb_dir=kb)
    generator.replies.extend(["NO_ANSWER"] * 20)  # every question refused (a test that drafts puts its draft first)
    keys = client.app.state.components.keys
    made = {role: keys.create(role=role, name=f"{role} one")[1] for role in ("agent", "qa", "admin")}
    return client, made, kb


def _h(keys: dict[str, str], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {keys[role]}"}


def test_an_edited_draft_and_a_repeated_gap_become_suggestions_nothing_indexed(
    desk: tuple[Any, dict[str, str], Path],
) -> None:
    client, keys, _ = desk
    client.app.state.components.generator.replies.insert(0, DRAFTED)
    agent = _h(keys, "agent")
    ticket = {"subject": "Preis", "messages": [{"role": "customer", "text": "Was kostet das Abo City für Studenten?"}]}
    draft = client.post("/v1/drafts", json=ticket, headers=agent).json()
    assert (
        client.post(
            f"/v1/drafts/{draft['id']}/outcome", json={"outcome": "edited", "final_text": SENT}, headers=agent
        ).status_code
        == 200
    )
    for question in UNANSWERED:
        assert client.post("/v1/answer", json={"question": question}, headers=agent).json()["action"] == "refuse"
    documents = len(client.get("/v1/documents", headers=agent).json())

    found = client.get("/v1/suggestions", headers=_h(keys, "qa"))
    assert found.status_code == 200, found.text
    by_kind = {x["kind"]: x for x in found.json()}
    edited, gap = by_kind["edited_draft"], by_kind["gap"]
    assert "zehn Prozent" in edited["missing"] and "34,90" not in edited["missing"]  # only what the agent added
    assert edited["wording"] and "Anna Schmidt" not in edited["wording"]  # personal data redacted
    assert edited["target_doc"] == draft["citations"][0]["doc_id"]
    assert gap["asked"] == 3 and set(gap["questions"]) <= set(UNANSWERED) and gap["target_doc"] is None
    assert gap["wording"] and "zehn Prozent" in gap["wording"]  # the agent answered a question of the cluster
    assert gap["proposed"].startswith("# ")
    again = client.get("/v1/suggestions", headers=agent).json()
    assert sorted(x["id"] for x in again) == sorted(x["id"] for x in found.json())  # kept, not duplicated
    assert len(client.get("/v1/documents", headers=agent).json()) == documents  # nothing indexed by itself

    page = client.get("/dashboard", headers=_h(keys, "qa")).text
    assert "Suggested article changes" in page and "zehn Prozent" in page


def test_accepting_writes_and_indexes_the_article_rejecting_buries_it(
    desk: tuple[Any, dict[str, str], Path],
) -> None:
    client, keys, kb = desk
    agent, admin = _h(keys, "agent"), _h(keys, "admin")
    for question in UNANSWERED:
        client.post("/v1/answer", json={"question": question}, headers=agent)
    (gap,) = client.get("/v1/suggestions", headers=agent).json()
    accept = f"/v1/suggestions/{gap['id']}/accept"
    assert client.post(accept, json={}, headers=agent).status_code == 403  # writing the KB is for admins
    article = "# Studentenrabatt\n\nStudierende erhalten zehn Prozent Rabatt auf jedes Abo.\n"
    made = client.post(accept, json={"text": article, "doc_id": "studenten.md"}, headers=admin)
    assert made.status_code == 200, made.text
    assert made.json()["doc_id"] == "studenten.md" and made.json()["status"] == "added"
    assert (kb / "studenten.md").read_text(encoding="utf-8") == article  # in the company's folder
    assert "studenten.md" in [d["doc_id"] for d in client.get("/v1/documents", headers=agent).json()]
    store = client.app.state.components.store
    assert any("zehn Prozent" in c.text for c in store.chunks_of("studenten.md"))
    assert client.post(accept, json={}, headers=admin).status_code == 409  # decided once
    accepted = client.get("/v1/suggestions?status=accepted", headers=agent).json()
    assert [x["doc_id"] for x in accepted] == ["studenten.md"]

    for question in ["Kann ich mein Rad in den Urlaub mitnehmen?", "Darf das Rad mit in den Urlaub?"]:
        client.post("/v1/answer", json={"question": question}, headers=agent)
    (other,) = client.get("/v1/suggestions", headers=agent).json()
    rejected = client.post(f"/v1/suggestions/{other['id']}/reject", headers=agent)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    client.post("/v1/answer", json={"question": "Kann ich das Rad in den Urlaub mitnehmen?"}, headers=agent)
    assert client.get("/v1/suggestions", headers=agent).json() == []  # a rejected gap does not come back
    bad = client.post(f"/v1/suggestions/{other['id']}/accept", json={"doc_id": "../x.md"}, headers=admin)
    assert bad.status_code == 422
