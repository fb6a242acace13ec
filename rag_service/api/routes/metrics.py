"""``GET /metrics``: Prometheus' text format (scrape with a qa or admin key as bearer token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST

from ...metrics import exposition
from ..auth import AUTH_RESPONSES, allow

router = APIRouter(tags=["metrics"], dependencies=[Depends(allow("qa", "admin"))], responses=AUTH_RESPONSES)


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Every metric"}},
)
async def metrics() -> Response:
    """Requests by route and status with latencies, answers by action, time per stage of the answer
    path, model calls and tokens, answer-cache hits and misses, the model's queue depth."""
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
