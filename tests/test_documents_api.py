"""Managing the knowledge base over HTTP."""

from __future__ import annotations

from typing import Any

from .conftest import KB_DOCS


def test_upload_list_answer_delete(make_client: Any) -> None:
    client, gen = make_client("Die Rücksendung ist kostenlos [1].", kb=False)
    content = (KB_DOCS / "geraeteversand.txt").read_bytes()
    r = client.post(
        "/v1/documents",
        files={"file": ("geraeteversand.txt", content, "text/plain")},
        data={"doc_id": "hilfe/versand.txt"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "added" and r.json()["doc_id"] == "hilfe/versand.txt" and r.json()["chunks"] > 0
    again = client.post(
        "/v1/documents",
        files={"file": ("geraeteversand.txt", content, "text/plain")},
        data={"doc_id": "hilfe/versand.txt"},
    )
    assert again.json()["status"] == "unchanged"
    assert [d["doc_id"] for d in client.get("/v1/documents").json()] == ["hilfe/versand.txt"]
    answer = client.post("/v1/answer", json={"question": "Ist die Rücksendung kostenlos?"}).json()
    assert answer["action"] == "answer" and answer["citations"][0]["doc_id"] == "hilfe/versand.txt"
    assert client.delete("/v1/documents/hilfe/versand.txt").status_code == 204
    assert client.get("/v1/documents").json() == []
    assert client.delete("/v1/documents/hilfe/versand.txt").status_code == 404
    after = client.post("/v1/answer", json={"question": "Ist die Rücksendung kostenlos?"}).json()
    assert after["action"] == "refuse" and len(gen.calls) == 1


def test_bad_upload_is_a_readable_422(make_client: Any) -> None:
    client, _ = make_client(kb=False)
    r = client.post("/v1/documents", files={"file": ("leer.md", b"", "text/markdown")})
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "leer.md: the file is empty"
    r = client.post(
        "/v1/documents", files={"file": ("x.md", b"# Hi\n\nText.", "text/markdown")}, data={"doc_id": "../etc"}
    )
    assert r.status_code == 422
