"""Liveness and readiness, for load balancers and ``make run``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ...model.llm_worker import WorkerGenerator
from ..deps import get_components

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is up (models may still be loading)."""
    return {"status": "ok"}


@router.get("/ready", response_model=None)
async def ready(request: Request) -> dict[str, object] | JSONResponse:
    """200 once models and the index are loaded; 503 before, and while a failed model process restarts,
    so traffic waits."""
    components = request.app.state.components
    if components is None:
        return JSONResponse({"status": "loading"}, status_code=503)
    components = get_components(request)
    model = components.generator.status() if isinstance(components.generator, WorkerGenerator) else "ready"
    if model != "ready":
        return JSONResponse({"status": "loading", "model": model}, status_code=503)
    store = components.store
    return {"status": "ready", "documents": len(store.documents()), "chunks": store.chunk_count(), "model": model}
