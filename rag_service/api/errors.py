"""Core errors -> HTTP, in one table. Clients get ``{"error": {"type", "message", "request_id"}}``;
internal messages and stack traces go to the log under the same request id, never to the client."""

from __future__ import annotations

import logging
import time
import uuid
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..errors import (
    BackendUnavailable,
    ConfigError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RagError,
    RateLimited,
    StoreError,
    Unauthorized,
)
from ..logs import REQUEST_ID
from ..metrics import REQUEST_SECONDS, REQUESTS
from ..model.llm import Overloaded
from ..model.llm_worker import ModelFailure

log = logging.getLogger("rag_service.api")

# (status, type, whether the exception's own message is safe to show)
_STATUS: list[tuple[type[RagError], int, str, bool]] = [
    (Unauthorized, 401, "unauthorized", True),
    (Forbidden, 403, "forbidden", True),
    (NotFound, 404, "not_found", True),
    (Conflict, 409, "conflict", True),
    (PayloadTooLarge, 413, "payload_too_large", True),
    (InvalidInput, 422, "invalid_request", True),
    (BackendUnavailable, 503, "unavailable", False),
    (StoreError, 500, "internal_error", False),
    (ConfigError, 500, "internal_error", False),
]


def request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = request.headers.get("x-request-id") or f"req_{uuid.uuid4().hex[:16]}"
        request.state.request_id = rid
    return str(rid)


def error_response(request: Request, status: int, type_: str, message: str) -> JSONResponse:
    rid = request_id(request)
    return JSONResponse(
        {"error": {"type": type_, "message": message, "request_id": rid}},
        status_code=status,
        headers={"X-Request-Id": rid},
    )


def _methods(request: Request) -> set[str]:
    """The methods some route of the app accepts for this request's path."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return methods


def _route(request: Request) -> str:
    """The matched route's template (``/v1/handoffs/{handoff_id}``): a metric label with few values."""
    return getattr(request.scope.get("route"), "path", None) or "unmatched"


def _browser_page(request: Request) -> bool:
    """A browser (it asks for HTML) reading one of the service's HTML pages."""
    route = request.scope.get("route")
    return (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and getattr(route, "response_class", None) is HTMLResponse
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.middleware("http")
    async def _request_id(request: Request, call_next):  # type: ignore[no-untyped-def]
        rid = request_id(request)
        token = REQUEST_ID.set(rid)  # in every log line of this request (RAG_LOG_FORMAT=json)
        began = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:  # answered 500 by the outermost middleware
            REQUESTS.labels(_route(request), request.method, "500").inc()
            raise
        finally:
            REQUEST_ID.reset(token)
        REQUESTS.labels(_route(request), request.method, str(response.status_code)).inc()
        REQUEST_SECONDS.labels(_route(request), request.method).observe(time.perf_counter() - began)
        response.headers["X-Request-Id"] = rid
        return response

    @app.exception_handler(Overloaded)
    async def _overloaded(request: Request, exc: Overloaded) -> JSONResponse:
        log.warning("request %s: model queue full; answered 429", request_id(request))
        response = error_response(request, 429, "rate_limited", "The assistant is busy; please retry in a few seconds.")
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.exception_handler(RateLimited)
    async def _rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        log.info("request %s: %s", request_id(request), exc)
        response = error_response(request, 429, "rate_limited", str(exc))
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.exception_handler(ModelFailure)
    async def _model_failure(request: Request, exc: ModelFailure) -> JSONResponse:
        log.error("request %s: %s", request_id(request), exc)
        response = error_response(
            request,
            503,
            "model_unavailable",
            "The assistant is restarting after a fault; please retry in a few seconds.",
        )
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response

    @app.exception_handler(RagError)
    async def _rag_error(request: Request, exc: RagError) -> Response:
        if isinstance(exc, Unauthorized) and _browser_page(request):  # a person, not a client: sign in first
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
        status, type_, public = next(
            ((status, type_, public) for cls, status, type_, public in _STATUS if isinstance(exc, cls)),
            (500, "internal_error", False),
        )
        log.log(
            logging.WARNING if status < 500 else logging.ERROR,
            "request %s: %s: %s",
            request_id(request),
            type(exc).__name__,
            exc,
            exc_info=status >= 500,
        )
        message = str(exc) if public else "The service could not complete the request; it has been logged."
        if status == 503:
            message = "The service is not ready yet; retry in a few seconds."
        return error_response(request, status, type_, message)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            parts.append(f"{loc}: {err.get('msg')}" if loc else str(err.get("msg")))
        log.info("request %s: invalid request: %s", request_id(request), "; ".join(parts))
        return error_response(request, 422, "invalid_request", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = error_response(request, exc.status_code, "http_error", str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not only those of the route that matched first
            response.headers["Allow"] = ", ".join(sorted(_methods(request)))
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("request %s: unexpected error", request_id(request), exc_info=exc)
        return error_response(
            request, 500, "internal_error", "The service could not complete the request; it has been logged."
        )
