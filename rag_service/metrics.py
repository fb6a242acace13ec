"""Prometheus metrics of the service (served at ``GET /metrics`` by the API).

The answer path reports each finished answer (``observe_answer``); the model's queue reports its
depth; the API layer counts requests. With several API worker processes, set
``PROMETHEUS_MULTIPROC_DIR`` (``rag-serve --workers N`` does) and every worker's figures are summed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from .answer.types import AnswerResult

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)

REQUESTS = Counter("rag_requests_total", "HTTP requests by route, method and status", ["route", "method", "status"])
REQUEST_SECONDS = Histogram(
    "rag_request_seconds", "HTTP request duration by route and method", ["route", "method"], buckets=_SECONDS
)
ANSWERS = Counter("rag_answers_total", "Answers by action, reason and language", ["action", "reason", "language"])
ANSWER_SECONDS = Histogram("rag_answer_seconds", "Time to a complete answer by action", ["action"], buckets=_SECONDS)
STAGE_SECONDS = Histogram(
    "rag_stage_seconds", "Time per stage of the answer path (route, cache, understand, …)", ["stage"], buckets=_SECONDS
)
MODEL_CALLS = Counter("rag_model_calls_total", "Model calls by stage of the answer path", ["stage"])
TOKENS = Counter("rag_tokens_total", "Model tokens read (prompt) and written (completion)", ["kind"])
CACHE = Counter("rag_cache_lookups_total", "Answer cache lookups by result", ["result"])
QUEUE = Gauge("rag_model_queue_depth", "Requests holding or waiting for the model", multiprocess_mode="livesum")


def observe_answer(result: AnswerResult, *, cache_lookup: bool) -> None:
    t = result.timings
    ANSWERS.labels(result.action, result.reason or "", result.language).inc()
    ANSWER_SECONDS.labels(result.action).observe(t.get("total_ms", 0.0) / 1000)
    for key, value in t.items():
        if key.endswith("_ms") and key not in ("total_ms", "first_token_ms"):
            STAGE_SECONDS.labels(key.removesuffix("_ms")).observe(value / 1000)
        elif key.endswith("_calls"):
            MODEL_CALLS.labels(key.removesuffix("_calls")).inc(value)
    if result.prompt_tokens:
        TOKENS.labels("prompt").inc(result.prompt_tokens)
    if result.completion_tokens:
        TOKENS.labels("completion").inc(result.completion_tokens)
    if cache_lookup:
        CACHE.labels("hit" if t.get("cache_hit") else "miss").inc()


def exposition() -> bytes:
    """Every metric in Prometheus' text format (summed over the worker processes when there are several)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()
