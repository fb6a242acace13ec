"""The web chat's server side, through real HTTP on the real app: a widget key works only from its
origins and only opens visitor sessions; each visitor gets a key and a customer id of their own;
CORS lets the company's pages (and no others) read the answers; revoking the widget key ends every
visitor's session; the "talk to a person" button hands the conversation over with its transcript;
/widget.js and /demo are served and load nothing from elsewhere. (The widget in a browser:
tests/test_widget_browser.py.)"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import update
from sqlalchemy.orm import Session

from rag_service.db import ApiKeyRow, now

SITE = "https://help.example.com"
REPLY = "Das Abo City kostet 34,90 € pro Monat [1]."
QUESTION = "Was kostet das Abo City?"


@pytest.fixture
def widget(kb_client: Any) -> tuple[Any, str, str]:
    """A client with keys on, an admin key and a widget key for SITE."""
    client, _ = kb_client(auth="keys", answer_mode="generate", answer_cache=False)
    keys = client.app.state.components.keys
    admin = keys.create(role="admin", name="ops")[1]
    widget_key = keys.create(role="customer", name="help center", origins=[SITE + "/", "HTTPS://Help.Example.com"])[1]
    return client, admin, widget_key


def _scripted(client: Any, *replies: str) -> None:
    client.app.state.components.generator.replies.extend(replies)


def _visitor(client: Any, widget_key: str, origin: str = SITE) -> dict[str, Any]:
    r = client.post("/v1/widget/session", headers={"Authorization": f"Bearer {widget_key}", "Origin": origin})
    assert r.status_code == 201, r.text
    return dict(r.json())


def _ask(client: Any, key: str, origin: str | None = SITE, **extra: Any) -> Any:
    headers = {"Authorization": f"Bearer {key}"} | ({"Origin": origin} if origin else {})
    body = {"messages": [{"role": "user", "content": QUESTION}], **extra}
    return client.post("/v1/chat/completions", json=body, headers=headers)


def test_a_widget_key_only_opens_visitor_sessions_from_its_own_pages(widget: tuple[Any, str, str]) -> None:
    client, admin, widget_key = widget
    listed = client.get("/v1/keys", headers={"Authorization": f"Bearer {admin}"}).json()
    assert [k["origins"] for k in listed if k["name"] == "help center"] == [[SITE]]  # normalised, once
    auth = {"Authorization": f"Bearer {widget_key}"}
    assert client.post("/v1/widget/session", headers=auth).status_code == 403  # no Origin: not from a page
    assert client.post("/v1/widget/session", headers={**auth, "Origin": "https://evil.example"}).status_code == 403
    assert _ask(client, widget_key).status_code == 403  # the published key cannot ask itself
    a, b = _visitor(client, widget_key), _visitor(client, widget_key)
    assert a["customer_id"].startswith("visitor-") and a["customer_id"] != b["customer_id"]
    assert a["key"] != b["key"] and a["expires_at"]
    # visitors' keys are not listed among the company's keys
    assert len(client.get("/v1/keys", headers={"Authorization": f"Bearer {admin}"}).json()) == 2


def test_each_visitor_is_a_customer_of_their_own(widget: tuple[Any, str, str]) -> None:
    client, admin, widget_key = widget
    a, b = _visitor(client, widget_key), _visitor(client, widget_key)
    _scripted(client, REPLY)
    first = _ask(client, a["key"])
    assert first.status_code == 200, first.text
    conversation = first.json()["rag"]["conversation_id"]
    assert _ask(client, a["key"], origin=None).status_code == 403  # a visitor key works only from the site too
    assert _ask(client, b["key"], conversation_id=conversation).status_code == 403  # not another's conversation
    answer_id = first.json()["rag"]["answer_id"]
    up = {"answer_id": answer_id, "rating": "up"}
    headers_b = {"Authorization": f"Bearer {b['key']}", "Origin": SITE}
    assert client.post("/v1/feedback", json=up, headers=headers_b).status_code == 403
    headers_a = {"Authorization": f"Bearer {a['key']}", "Origin": SITE}
    assert client.post("/v1/feedback", json=up, headers=headers_a).status_code == 201
    export = client.get(f"/v1/customers/{a['customer_id']}/export", headers={"Authorization": f"Bearer {admin}"})
    assert export.status_code == 200 and conversation in export.text


def test_cors_lets_the_company_pages_read_answers_and_no_other_site(widget: tuple[Any, str, str]) -> None:
    client, _, widget_key = widget
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    ok = client.options("/v1/chat/completions", headers={**preflight, "Origin": SITE})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == SITE
    bad = client.options("/v1/chat/completions", headers={**preflight, "Origin": "https://evil.example"})
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers
    visitor = _visitor(client, widget_key)
    _scripted(client, REPLY)
    answered = _ask(client, visitor["key"])
    assert answered.headers["access-control-allow-origin"] == SITE
    assert "x-answer-id" in answered.headers["access-control-expose-headers"].lower()
    refused = _ask(client, visitor["key"], origin="https://evil.example")  # a 403 the page may read
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers


def test_revoking_the_widget_key_ends_every_visitor_session_and_old_ones_expire(
    widget: tuple[Any, str, str],
) -> None:
    client, admin, widget_key = widget
    a, b = _visitor(client, widget_key), _visitor(client, widget_key)
    components = client.app.state.components
    past = now() - timedelta(seconds=1)
    with Session(components.engine) as s, s.begin():  # b's 30 days are over
        s.execute(update(ApiKeyRow).where(ApiKeyRow.customer_id == b["customer_id"]).values(expires_at=past))
    assert _ask(client, b["key"]).status_code == 401
    assert components.privacy.purge(30)["keys"] == 1  # the daily purge deletes expired visitor keys
    widget_id = next(k.id for k in components.keys.all() if k.name == "help center")
    assert client.delete(f"/v1/keys/{widget_id}", headers={"Authorization": f"Bearer {admin}"}).status_code == 200
    assert _ask(client, a["key"]).status_code == 401
    again = client.post("/v1/widget/session", headers={"Authorization": f"Bearer {widget_key}", "Origin": SITE})
    assert again.status_code == 401


def test_talk_to_a_person_hands_the_conversation_over_with_its_transcript(widget: tuple[Any, str, str]) -> None:
    client, admin, widget_key = widget
    a, b = _visitor(client, widget_key), _visitor(client, widget_key)
    _scripted(client, REPLY)
    conversation = _ask(client, a["key"]).json()["rag"]["conversation_id"]
    path = f"/v1/conversations/{conversation}/handoff"
    headers_a = {"Authorization": f"Bearer {a['key']}", "Origin": SITE}
    headers_b = {**headers_a, "Authorization": f"Bearer {b['key']}"}
    assert client.post(path, json={"language": "de"}, headers=headers_b).status_code == 403
    made = client.post(path, json={"language": "de"}, headers=headers_a)
    assert made.status_code == 201, made.text
    assert "Mitarbeiter" in made.json()["message"] or "Menschen" in made.json()["message"]
    again = client.post(path, json={"language": "de"}, headers=headers_a)
    assert again.json()["handoff_id"] == made.json()["handoff_id"]  # one open handoff per conversation
    agent = {"Authorization": f"Bearer {admin}"}
    handoff = client.get(f"/v1/handoffs/{made.json()['handoff_id']}", headers=agent).json()
    assert handoff["reason"] == "explicit_request" and handoff["customer_id"] == a["customer_id"]
    assert QUESTION in str(handoff["transcript"]) and "34,90" in str(handoff["transcript"])
    missing = client.post("/v1/conversations/conv-none/handoff", json={}, headers=headers_a)
    assert missing.status_code == 404


def test_the_script_and_the_demo_page_load_nothing_from_elsewhere(widget: tuple[Any, str, str]) -> None:
    client, _, widget_key = widget
    js = client.get("/widget.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    code = re.sub(r"/\*.*?\*/", "", js.text, flags=re.S)  # the usage comment names an example address
    assert not re.search(r"https?://|@import|fonts\.|cdn", code, flags=re.I)
    demo = client.get(f"/demo?key={widget_key}&lang=de")
    assert demo.status_code == 200 and '<html lang="de">' in demo.text
    assert f'data-key="{widget_key}"' in demo.text and 'src="/widget.js"' in demo.text
    assert "default-src 'self'" in demo.headers["content-security-policy"]
    unset = client.get("/demo")
    assert "rag-admin keys create --role customer" in unset.text and "<script" not in unset.text
    assert client.get("/demo?key=%22%3E%3Cscript%3Ealert(1)%3C/script%3E").text.count("<script") == 1  # escaped


def test_cli_makes_a_widget_key_and_refuses_a_bad_origin(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag_service.admin import main

    monkeypatch.setenv("RAG_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    made = runner.invoke(main, ["keys", "create", "--role", "customer", "--name", "hc", "--origin", SITE])
    assert made.exit_code == 0 and f"origins {SITE}" in made.output
    bad = runner.invoke(main, ["keys", "create", "--role", "customer", "--name", "hc", "--origin", "help.example.com"])
    assert bad.exit_code != 0 and "not a web origin" in bad.output
    staff = runner.invoke(main, ["keys", "create", "--role", "agent", "--name", "a", "--origin", SITE])
    assert staff.exit_code != 0 and "only customer keys" in staff.output


def test_new_visitors_count_against_the_widget_limit_not_the_customer_one(kb_client: Any) -> None:
    client, _ = kb_client(auth="keys", rate_limit_customer="2/minute", rate_limit_widget="4/minute")
    widget_key = client.app.state.components.keys.create(role="customer", name="hc", origins=[SITE])[1]
    headers = {"Authorization": f"Bearer {widget_key}", "Origin": SITE}
    opened = [client.post("/v1/widget/session", headers=headers).status_code for _ in range(5)]
    assert opened == [201, 201, 201, 201, 429]  # more visitors than one customer's limit, fewer than the widget's
