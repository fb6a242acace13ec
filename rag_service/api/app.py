"""``create_app(settings, components=None)``: the FastAPI application, with models loaded in the
lifespan (never at import) unless the caller passes ready components (tests pass fakes)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..components import Components
from ..config import Settings
from .body import BodyLimit
from .cors import KeyOriginsCORS
from .errors import install_error_handlers
from .routes import (
    analytics,
    answer,
    chat,
    documents,
    drafts,
    health,
    keys,
    learning,
    login,
    metrics,
    support,
    triage,
    widget,
)

log = logging.getLogger("rag_service.api")


async def _alerts(components: Components, every_s: float = 300) -> None:
    """Look for spikes every 5 minutes (the dashboard and GET /v1/alerts also look when asked)."""
    while True:
        await asyncio.sleep(every_s)
        try:
            await run_in_threadpool(components.alerts.check)
        except Exception:  # a failed check must not take the service down; the next one retries
            log.exception("alert check failed")


async def _retention(components: Components, days: int, every_s: float = 86_400) -> None:
    """Purge conversations older than the retention period now, then once a day."""
    while True:
        try:
            await run_in_threadpool(components.privacy.purge, days)
        except Exception:  # a failed purge must not take the service down; the next day retries
            log.exception("retention purge failed")
        await asyncio.sleep(every_s)


def create_app(settings: Settings, components: Components | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.components = components or await run_in_threadpool(Components.load, settings)
        if settings.auth == "off":
            log.warning("RAG_AUTH=off: NO API KEYS - every caller acts as the operator. Loopback use only.")
        elif not await run_in_threadpool(app.state.components.keys.any_active):
            log.warning("no active API key: every request gets 401; create one with rag-admin keys create --role admin")
        retention = (
            asyncio.create_task(_retention(app.state.components, settings.retention_days))
            if settings.retention_days
            else None
        )
        watch = asyncio.create_task(_alerts(app.state.components))
        try:
            yield
        finally:
            watch.cancel()
            if retention is not None:
                retention.cancel()
            app.state.components.close()
            app.state.components = None

    app = FastAPI(
        title="rag_service",
        version=__version__,
        description="Grounded, cited answers from your help-center documents, by a local LLM.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.components = None
    install_error_handlers(app)
    app.add_middleware(
        BodyLimit,
        default_bytes=settings.max_body_kb * 1024,
        upload_bytes=int(settings.max_file_mb * 1024 * 1024) + 64 * 1024,  # the file and its form fields
        upload_path="/v1/documents",
    )
    app.include_router(health.router)
    app.include_router(answer.router)
    app.include_router(chat.router)
    app.include_router(documents.router)
    app.include_router(support.router)
    app.include_router(drafts.router)
    app.include_router(analytics.router)
    app.include_router(keys.router)
    app.include_router(login.router)
    app.include_router(metrics.router)
    app.include_router(triage.router)
    app.include_router(learning.router)
    app.include_router(widget.router)
    app.include_router(widget.pages)
    # outermost: browsers on the pages of a key's origins may call the API (the web chat); error
    # responses carry the CORS headers too, so the page can read a 429's Retry-After
    app.add_middleware(KeyOriginsCORS, origins=lambda: _origins(app))
    return app


def _origins(app: FastAPI) -> frozenset[str]:
    components = app.state.components
    return components.keys.allowed_origins() if components is not None else frozenset()
