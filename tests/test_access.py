"""API keys and roles, through real HTTP on the real app: every route × every role, a customer key's
own and another customer's data, key lifecycle over the API and the CLI, and the loopback rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from rag_service.access import ROLES

PUBLIC = {("GET", "/health"), ("GET", "/ready")}
STAFF = {"agent", "qa", "admin"}
AGENT = {"agent", "admin"}
QA = {"qa", "admin"}
ADMIN = {"admin"}
ANY = set(ROLES)

# method, path, JSON body (or "upload"), the roles that may call it
MATRIX: list[tuple[str, str, Any, set[str]]] = [
    ("POST", "/v1/answer", {"question": "Wie lange dauert der Versand?"}, ANY),
    ("POST", "/v1/chat/completions", {"messages": [{"role": "user", "content": "How long is shipping?"}]}, ANY),
    ("POST", "/v1/feedback", {"answer_id": "ans_unknown", "rating": "up"}, ANY),
    ("GET", "/v1/answers/ans_unknown", None, ANY),
    ("GET", "/v1/documents", None, STAFF),
    ("POST", "/v1/documents", "upload", ADMIN),
    ("DELETE", "/v1/documents/nothing.md", None, ADMIN),
    ("POST", "/v1/drafts", {"messages": [{"role": "customer", "text": "Wie lange dauert der Versand?"}]}, AGENT),
    ("POST", "/v1/drafts/drf_unknown/outcome", {"outcome": "sent"}, AGENT),
    ("GET", "/v1/handoffs", None, AGENT),
    ("GET", "/v1/handoffs/hof_unknown", None, AGENT),
    ("POST", "/v1/handoffs/hof_unknown/claim", {"agent": "ana"}, AGENT),
    ("POST", "/v1/handoffs/hof_unknown/close", {"agent": "ana"}, AGENT),
    ("PUT", "/v1/customers/c-own", {"name": "Ada"}, AGENT),
    ("GET", "/v1/customers/c-own", None, AGENT),
    ("GET", "/v1/customers/c-own/export", None, AGENT),
    ("DELETE", "/v1/customers/c-nobody", None, AGENT),
    ("GET", "/v1/analytics", None, QA),
    ("GET", "/dashboard", None, QA),
    ("GET", "/metrics", None, QA),
    ("GET", "/v1/keys", None, ADMIN),
    ("POST", "/v1/keys", {"role": "agent", "name": "made by the matrix"}, ADMIN),
    ("DELETE", "/v1/keys/key_unknown", None, ADMIN),
    ("POST", "/v1/conversations/conv-nobody/handoff", {"language": "de"}, ANY),
    ("POST", "/v1/widget/session", None, set()),  # widget keys only (tests/test_widget.py)
    ("POST", "/v1/triage", {"subject": "Versand", "body": "Wie lange dauert der Versand?"}, AGENT),
    ("GET", "/v1/suggestions", None, STAFF),
    ("POST", "/v1/suggestions/sug_unknown/accept", {}, ADMIN),
    ("POST", "/v1/suggestions/sug_unknown/reject", None, AGENT),
    ("GET", "/v1/alerts", None, STAFF),
]


@pytest.fixture
def secured(tmp_path: Path, app_client):  # type: ignore[no-untyped-def]
    """A client with keys switched on, and one key per role (two customers)."""
    replies = ["Der Versand dauert 2 Tage [1]."] * 40
    client, _ = app_client(tmp_path / "data", *replies, auth="keys", answer_mode="generate", query_translation=False)
    store = client.app.state.components.keys
    keys = {role: store.create(role=role, name=f"{role} test")[1] for role in ("agent", "qa", "admin")}
    keys["customer"] = store.create(role="customer", name="own", customer_id="c-own")[1]
    keys["other"] = store.create(role="customer", name="other", customer_id="c-other")[1]
    revoked, secret = store.create(role="admin", name="gone")
    store.revoke(revoked.id)
    keys["revoked"] = secret
    return client, keys


def _call(client, method: str, path: str, body: Any, key: str | None):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if body == "upload":
        files = {"file": ("matrix.md", b"# Matrix\n\nEin Test-Artikel.\n", "text/markdown")}
        return client.request(method, path, files=files, headers=headers)
    return client.request(method, path, json=body, headers=headers)


def test_every_route_is_in_the_matrix(secured) -> None:  # type: ignore[no-untyped-def]
    client, _ = secured
    # every API route is in the OpenAPI schema (the sign-in pages for browsers are not: they are public)
    routes = {(m.upper(), path) for path, ops in client.app.openapi()["paths"].items() for m in ops}
    assert len(routes) > 20
    covered = {(m, p) for m, p, _, _ in MATRIX} | PUBLIC
    templates = {
        ("DELETE", "/v1/documents/{doc_id}"): ("DELETE", "/v1/documents/nothing.md"),
        ("POST", "/v1/drafts/{draft_id}/outcome"): ("POST", "/v1/drafts/drf_unknown/outcome"),
        ("POST", "/v1/conversations/{conversation_id}/handoff"): ("POST", "/v1/conversations/conv-nobody/handoff"),
        ("POST", "/v1/suggestions/{suggestion_id}/accept"): ("POST", "/v1/suggestions/sug_unknown/accept"),
        ("POST", "/v1/suggestions/{suggestion_id}/reject"): ("POST", "/v1/suggestions/sug_unknown/reject"),
        ("GET", "/v1/handoffs/{handoff_id}"): ("GET", "/v1/handoffs/hof_unknown"),
        ("POST", "/v1/handoffs/{handoff_id}/claim"): ("POST", "/v1/handoffs/hof_unknown/claim"),
        ("POST", "/v1/handoffs/{handoff_id}/close"): ("POST", "/v1/handoffs/hof_unknown/close"),
        ("PUT", "/v1/customers/{customer_id}"): ("PUT", "/v1/customers/c-own"),
        ("GET", "/v1/customers/{customer_id}"): ("GET", "/v1/customers/c-own"),
        ("DELETE", "/v1/keys/{key_id}"): ("DELETE", "/v1/keys/key_unknown"),
        ("GET", "/v1/answers/{answer_id}"): ("GET", "/v1/answers/ans_unknown"),
        ("GET", "/v1/customers/{customer_id}/export"): ("GET", "/v1/customers/c-own/export"),
        ("DELETE", "/v1/customers/{customer_id}"): ("DELETE", "/v1/customers/c-nobody"),
    }
    missing = {r for r in routes if templates.get(r, r) not in covered and r[0] != "HEAD"}
    assert not missing, f"routes without a declared role in the matrix: {sorted(missing)}"


@pytest.mark.parametrize(("method", "path", "body", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_role_matrix(secured, method: str, path: str, body: Any, allowed: set[str]) -> None:  # type: ignore[no-untyped-def]
    client, keys = secured
    for who, key in [("no key", None), ("unknown key", "rsk_not-a-key"), ("revoked key", keys["revoked"])]:
        r = _call(client, method, path, body, key)
        assert r.status_code == 401, (who, r.status_code, r.text)
        assert r.json()["error"]["type"] == "unauthorized"
    for role in ROLES:
        r = _call(client, method, path, body, keys[role])
        if role in allowed:
            assert r.status_code not in (401, 403), (role, r.status_code, r.text)
            assert r.status_code < 500, (role, r.text)
        else:
            assert r.status_code == 403, (role, r.status_code, r.text)
            assert r.json()["error"]["type"] == "forbidden"


def test_public_routes_need_no_key(secured) -> None:  # type: ignore[no-untyped-def]
    client, _ = secured
    assert client.get("/health").status_code == 200
    assert client.get("/ready").status_code in (200, 503)


def test_customer_key_acts_only_for_its_customer(secured) -> None:  # type: ignore[no-untyped-def]
    client, keys = secured
    own, other = ({"Authorization": f"Bearer {keys[k]}"} for k in ("customer", "other"))
    ask = {"question": "Wie lange dauert der Versand?"}

    first = client.post("/v1/answer", json={**ask, "conversation_id": "conv-own"}, headers=own)
    assert first.status_code == 200
    assert client.app.state.components.conversations.customer_of("conv-own") == "c-own"  # bound to the key

    assert client.post("/v1/answer", json={**ask, "customer_id": "c-other"}, headers=own).status_code == 403
    assert client.post("/v1/answer", json={**ask, "customer_id": "c-own"}, headers=own).status_code == 200
    # another customer's conversation: neither continued nor read, over either endpoint
    assert client.post("/v1/answer", json={**ask, "conversation_id": "conv-own"}, headers=other).status_code == 403
    chat = {"messages": [{"role": "user", "content": "Und nach Österreich?"}], "conversation_id": "conv-own"}
    assert client.post("/v1/chat/completions", json=chat, headers=other).status_code == 403
    assert client.post("/v1/chat/completions", json={**chat, "user": "c-other"}, headers=own).status_code == 403
    assert client.post("/v1/chat/completions", json=chat, headers=own).status_code == 200
    # feedback only on its own answers
    answer_id = first.json()["id"]
    assert client.post("/v1/feedback", json={"answer_id": answer_id, "rating": "up"}, headers=other).status_code == 403
    assert client.post("/v1/feedback", json={"answer_id": answer_id, "rating": "up"}, headers=own).status_code == 201
    # staff may act for any customer
    agent = {"Authorization": f"Bearer {keys['agent']}"}
    assert client.post("/v1/answer", json={**ask, "conversation_id": "conv-own"}, headers=agent).status_code == 200


def test_keys_over_the_api_secret_shown_once(secured) -> None:  # type: ignore[no-untyped-def]
    client, keys = secured
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    made = client.post("/v1/keys", json={"role": "qa", "name": "release gate"}, headers=admin)
    assert made.status_code == 201
    secret, key_id = made.json()["secret"], made.json()["id"]
    qa = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/analytics", headers=qa).status_code == 200
    listed = client.get("/v1/keys", headers=admin)
    assert secret not in listed.text and all("secret" not in k for k in listed.json())
    assert any(k["id"] == key_id and secret.startswith(k["prefix"]) for k in listed.json())
    bad = client.post("/v1/keys", json={"role": "customer", "name": "no customer"}, headers=admin)
    assert bad.status_code == 422  # a customer key needs its customer id
    assert client.delete(f"/v1/keys/{key_id}", headers=admin).json()["revoked_at"]
    assert client.get("/v1/analytics", headers=qa).status_code == 401


def test_secrets_are_stored_hashed(secured, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    client, keys = secured
    client.app.state.components.engine.dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("app*.db*"))
    assert stored and not any(k.encode() in stored for k in keys.values())


def test_cli_creates_lists_and_revokes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, app_client) -> None:  # type: ignore[no-untyped-def]
    from rag_service.admin import main

    database = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAG_DATABASE_URL", database)
    runner = CliRunner()
    made = runner.invoke(main, ["keys", "create", "--role", "customer", "--name", "widget", "--customer", "c-7"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("rsk_")
    assert runner.invoke(main, ["keys", "create", "--role", "customer", "--name", "x"]).exit_code != 0
    listed = runner.invoke(main, ["keys", "list"])
    assert "widget" in listed.output and "c-7" in listed.output and secret not in listed.output

    client, _ = app_client(tmp_path / "data", "Der Versand dauert 2 Tage [1].", auth="keys", database_url=database)
    ask = {"question": "Wie lange dauert der Versand?"}
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.post("/v1/answer", json=ask, headers=headers).status_code == 200
    key_id = listed.output.split("\t", 1)[0]
    assert runner.invoke(main, ["keys", "revoke", key_id]).exit_code == 0
    assert client.post("/v1/answer", json=ask, headers=headers).status_code == 401


def test_serving_without_keys_only_on_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rag_service.api.serve import is_loopback, main

    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RAG_AUTH", "off")
    refused = CliRunner().invoke(main, ["--host", "0.0.0.0"])
    assert refused.exit_code != 0 and "loopback" in refused.output
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


INTERNAL = {
    "intern-rabatt.md": "# Mitarbeiterrabatt\n\nFür Mitarbeitende gilt der Rabattcode STAFF-4711 mit 30 % auf alles.\n",
    "staff-discount.md": "# Staff discount\n\nStaff use the discount code STAFF-4711 for 30% off every item.\n",
}
PUBLIC_DOCS = {
    "rabatte.md": "# Rabatte\n\nNeukunden erhalten 10 % Rabatt, wenn sie den Newsletter abonnieren.\n",
    "discounts.md": "# Discounts\n\nNew customers get 10% off when they subscribe to the newsletter.\n",
}


def test_internal_documents_never_reach_a_customer(tmp_path: Path, app_client) -> None:  # type: ignore[no-untyped-def]
    client, gen = app_client(tmp_path / "data", auth="keys", query_translation=False, query_rewrite=False)
    store = client.app.state.components.keys
    admin = {"Authorization": f"Bearer {store.create(role='admin', name='a')[1]}"}
    customer = {"Authorization": f"Bearer {store.create(role='customer', name='c', customer_id='c-1')[1]}"}
    agent = {"Authorization": f"Bearer {store.create(role='agent', name='g')[1]}"}
    for docs, audience in ((INTERNAL, "internal"), (PUBLIC_DOCS, "public")):
        for name, text in docs.items():
            up = client.post(
                "/v1/documents",
                files={"file": (name, text.encode(), "text/markdown")},
                data={"audience": audience},
                headers=admin,
            )
            assert up.status_code == 201, up.text
    asked = [
        "Gibt es einen Rabattcode für 30 Prozent?",
        "Is there a discount code for 30% off?",
        "Wie bekomme ich 30 % Nachlass auf alles?",
    ]
    for question in asked:
        body = client.post("/v1/answer", json={"question": question}, headers=customer).json()
        assert "STAFF-4711" not in body["answer"], question
        assert not {c["doc_id"] for c in body["citations"]} & set(INTERNAL), question
        chat = client.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]}, headers=customer
        ).json()
        assert "STAFF-4711" not in str(chat), question
    # the same index serves an agent's draft from the internal article (so the customer test could fail)
    gen.replies.append("Der Rabattcode für Mitarbeitende lautet STAFF-4711 [1].")
    draft = client.post("/v1/drafts", json={"messages": [{"role": "customer", "text": asked[0]}]}, headers=agent).json()
    assert "STAFF-4711" in draft["draft"]
    assert {c["doc_id"] for c in draft["citations"]} & set(INTERNAL)
