"""Observability: ``GET /metrics`` in Prometheus' format for qa/admin keys, counting what a question
did (route, status, action, stages, model calls, cache hit); JSON log lines carry the request id and
no personal data."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from rag_service.logs import JsonFormatter

from .test_cache import QUESTION, ask


def samples(http: Any, headers: dict[str, str] | None = None) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = http.get("/metrics", headers=headers or {})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain"), r.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def delta(before: dict[Any, float], after: dict[Any, float], name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_metrics_count_what_the_questions_did(kb_client: Any) -> None:
    http, _ = kb_client()
    before = samples(http)
    ask(http, QUESTION)
    ask(http, QUESTION)  # from the cache
    assert http.post("/v1/answer", json={"question": ""}).status_code == 422
    after = samples(http)
    assert delta(before, after, "rag_requests_total", route="/v1/answer", method="POST", status="200") == 2
    assert delta(before, after, "rag_requests_total", route="/v1/answer", method="POST", status="422") == 1
    assert delta(before, after, "rag_request_seconds_count", route="/v1/answer", method="POST") == 3
    assert delta(before, after, "rag_answers_total", action="answer", reason="", language="de") == 2
    assert delta(before, after, "rag_cache_lookups_total", result="hit") == 1
    assert delta(before, after, "rag_cache_lookups_total", result="miss") == 1
    assert delta(before, after, "rag_model_calls_total", stage="check") == 1  # the yes/no pass, once
    assert delta(before, after, "rag_stage_seconds_count", stage="retrieve") == 1
    assert delta(before, after, "rag_stage_seconds_count", stage="cache") == 2  # per answer: lookup (+ put)
    assert after[("rag_model_queue_depth", ())] == 0  # nobody holds the model now


def test_metrics_need_a_qa_or_admin_key(app_client: Any, kb_store: Any) -> None:
    from .conftest import SCRIPTED

    http, _ = app_client(kb_store.data_dir, **{**SCRIPTED, "auth": "keys"})
    components = http.app.state.components
    assert http.get("/metrics").status_code == 401
    customer = components.keys.create(role="customer", name="w", customer_id="c-1")[1]
    assert http.get("/metrics", headers={"Authorization": f"Bearer {customer}"}).status_code == 403
    qa = components.keys.create(role="qa", name="prometheus")[1]
    assert "rag_requests_total" in str(samples(http, {"Authorization": f"Bearer {qa}"}))


def test_json_log_lines_carry_the_request_id_and_no_personal_data(kb_client: Any) -> None:
    http, _ = kb_client()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("rag_service")
    logger.addHandler(handler)
    try:
        r = http.get("/v1/handoffs/ho_missing")  # logged: an unknown id
        assert r.status_code == 404
        logging.getLogger("rag_service.test").warning("mail from anna.schmidt@example.org, call 0171 2345678")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    served = next(line for line in lines if "ho_missing" in line["message"])
    assert served["request_id"] == r.headers["x-request-id"] and served["level"] == "warning"
    personal = lines[-1]["message"]
    assert "anna.schmidt" not in personal and "2345678" not in personal and "<EMAIL>" in personal
