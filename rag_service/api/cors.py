"""CORS for the web chat: Starlette's middleware, with the allowed origins taken from the active API
keys' origin lists (``rag-admin keys create --origin``), so a company's help-center pages may call
the API and no other site's pages can read its answers."""

from __future__ import annotations

from collections.abc import Callable

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp


class KeyOriginsCORS(CORSMiddleware):
    def __init__(self, app: ASGIApp, origins: Callable[[], frozenset[str]]) -> None:
        super().__init__(
            app,
            allow_methods=("GET", "POST"),
            allow_headers=("Authorization", "Content-Type", "X-Conversation-Id", "X-Request-Id"),
            expose_headers=("X-Answer-Id", "X-Request-Id", "Retry-After"),
            max_age=600,
        )
        self._origins = origins

    def is_allowed_origin(self, origin: str) -> bool:
        return origin in self._origins()
