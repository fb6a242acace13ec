"""Abuse limits through real HTTP: request rates per key and role, concurrent streams per key, and
body sizes — each refused with its own typed status, never by a crash."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

ASK = {"question": "Was kostet das Abo City?"}


def _keys(client: Any) -> dict[str, dict[str, str]]:
    store = client.app.state.components.keys
    made = {
        "one": store.create(role="customer", name="one", customer_id="c-1")[1],
        "two": store.create(role="customer", name="two", customer_id="c-2")[1],
        "agent": store.create(role="agent", name="agent")[1],
    }
    return {k: {"Authorization": f"Bearer {v}"} for k, v in made.items()}


def test_each_key_has_its_own_request_rate(make_client: Any) -> None:
    client, _ = make_client(*["Das Abo City kostet 34,90 € [1]."] * 12, auth="keys", rate_limit_customer="3/minute")
    keys = _keys(client)
    assert [client.post("/v1/answer", json=ASK, headers=keys["one"]).status_code for _ in range(3)] == [200] * 3
    refused = client.post("/v1/answer", json=ASK, headers=keys["one"])
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert client.post("/v1/feedback", json={"answer_id": "x", "rating": "up"}, headers=keys["one"]).status_code == 429
    # another customer and a staff key are counted apart
    assert client.post("/v1/answer", json=ASK, headers=keys["two"]).status_code == 200
    assert client.post("/v1/answer", json=ASK, headers=keys["agent"]).status_code == 200


def test_concurrent_streams_per_key(make_client: Any) -> None:
    client, gen = make_client(
        "Das Abo City kostet 34,90 € [1].", "Das Abo City kostet 34,90 € [1].", auth="keys", max_streams_per_key=1
    )
    keys = _keys(client)
    chat = {"messages": [{"role": "user", "content": ASK["question"]}], "stream": True}
    gen.release.clear()  # the first stream holds the model
    first: dict[str, Any] = {}

    def stream() -> None:
        with client.stream("POST", "/v1/chat/completions", json=chat, headers=keys["one"]) as r:
            first["status"] = r.status_code
            first["body"] = "".join(r.iter_lines())

    worker = threading.Thread(target=stream)
    worker.start()
    assert gen.entered.wait(10)
    second = client.post("/v1/chat/completions", json=chat, headers=keys["one"])
    gen.release.set()
    worker.join(10)
    assert second.status_code == 429 and second.json()["error"]["type"] == "rate_limited"
    assert int(second.headers["retry-after"]) > 0
    assert first["status"] == 200 and "[DONE]" in first["body"]
    # the slot is free again once the first stream ended
    again = client.post("/v1/chat/completions", json=chat, headers=keys["one"])
    assert again.status_code == 200


def test_oversized_bodies_are_refused_with_413(make_client: Any) -> None:
    client, _ = make_client("Das Abo City kostet 34,90 € [1].", max_body_kb=2)
    big = {"question": "Was kostet das Abo City? " + "x" * 3000}
    r = client.post("/v1/answer", json=big)
    assert r.status_code == 413 and r.json()["error"]["type"] == "payload_too_large"

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"question": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    r = client.post("/v1/answer", content=chunked(), headers={"content-type": "application/json"})
    assert r.status_code in (400, 413)
    assert client.post("/v1/answer", json=ASK).status_code == 200  # a normal question still passes


def test_long_questions_and_unsupported_uploads_get_clear_errors(make_client: Any) -> None:
    client, _ = make_client(kb=False, max_question_chars=100)
    r = client.post("/v1/answer", json={"question": "Wie " * 60})
    assert r.status_code == 422 and "100 characters" in r.json()["error"]["message"]
    r = client.post("/v1/documents", files={"file": ("tool.exe", b"MZ\x90\x00binary", "application/octet-stream")})
    assert r.status_code == 422 and r.json()["error"]["type"] == "invalid_request"


def test_counts_in_the_database_are_shared_by_every_process(tmp_path: Any) -> None:
    """RAG_RATE_LIMIT_STORAGE=database: two service processes (two Quota objects on one database file)
    count a key once; memory:// would let each of them allow the full rate."""
    import pytest

    from rag_service.db import make_engine, upgrade
    from rag_service.errors import RateLimited
    from rag_service.quota import Quota

    engine = make_engine(f"sqlite:///{tmp_path}/shared.db")
    upgrade(engine)
    one, two = (Quota(customer="3/minute", staff="9/minute", storage_uri="database", engine=engine) for _ in range(2))
    one.hit("key_a", customer=True)
    two.hit("key_a", customer=True)
    one.hit("key_a", customer=True)
    with pytest.raises(RateLimited) as refused:
        two.hit("key_a", customer=True)
    assert 1 <= refused.value.retry_after_s <= 60
    two.hit("key_b", customer=True)  # another key has its own count
    alone = [Quota(customer="3/minute", staff="9/minute") for _ in range(2)]
    for _ in range(3):
        alone[0].hit("key_a", customer=True)
    alone[1].hit("key_a", customer=True)  # in memory, each process counts on its own
