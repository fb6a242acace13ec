"""``create_app(settings, components=None)``: the FastAPI application, with models loaded in the
lifespan (never at import) unless the caller passes ready components (tests pass fakes)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .. import __version__
from ..components import Components
from ..config import Settings
from .errors import install_error_handlers
from .routes import analytics, answer, chat, documents, drafts, health, support


def create_app(settings: Settings, components: Components | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.components = components or await run_in_threadpool(Components.load, settings)
        try:
            yield
        finally:
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
    app.include_router(health.router)
    app.include_router(answer.router)
    app.include_router(chat.router)
    app.include_router(documents.router)
    app.include_router(support.router)
    app.include_router(drafts.router)
    app.include_router(analytics.router)
    return app
