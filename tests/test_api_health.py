"""The service starts, loads its components in the lifespan and reports readiness."""

from __future__ import annotations

from fastapi.testclient import TestClient

from rag_service.api.app import create_app
from rag_service.components import Components
from rag_service.config import Settings

from .conftest import CountingEmbedder
from .fakes import FakeGenerator


def test_health_and_ready(settings: Settings, embedder: CountingEmbedder) -> None:
    components = Components.build(settings, embedder=embedder, generator=FakeGenerator())
    with TestClient(create_app(settings, components)) as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "documents": 0, "chunks": 0, "model": "ready"}
        assert ready.headers["x-request-id"].startswith("req_")
        assert client.get("/docs").status_code == 200


def test_not_ready_before_lifespan(settings: Settings) -> None:
    client = TestClient(create_app(settings))  # no `with`: the lifespan has not loaded anything
    response = client.get("/ready")
    assert response.status_code == 503


def test_unknown_route_uses_error_envelope(settings: Settings, embedder: CountingEmbedder) -> None:
    with TestClient(
        create_app(settings, Components.build(settings, embedder=embedder, generator=FakeGenerator()))
    ) as client:
        response = client.get("/v1/nothing-here", headers={"X-Request-Id": "req_test123"})
    assert response.status_code == 404
    assert response.json()["error"]["request_id"] == "req_test123"


def test_answer_before_models_are_loaded_is_503(settings: Settings) -> None:
    client = TestClient(create_app(settings))  # lifespan not run: nothing loaded yet
    response = client.post("/v1/answer", json={"question": "Was kostet das Abo City?"})
    assert response.status_code == 503
    assert response.json()["error"]["type"] == "unavailable"
