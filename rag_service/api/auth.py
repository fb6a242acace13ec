"""Authentication and roles at the HTTP edge: ``Authorization: Bearer <key>`` -> ``Principal``.

Every route declares who may call it with ``allow(...)``; the checks themselves (role, a customer
key's own customer id) live in ``rag_service.access``. With ``RAG_AUTH=off`` (loopback only, see
``rag-serve``) every request acts as the operator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..access import OPERATOR, ROLES, Principal, Role
from ..errors import Forbidden
from .deps import get_components
from .schemas import ErrorOut

WIDGET_SESSION_PATH = "/v1/widget/session"  # all a widget key may call (routes/widget.py)
KEY_COOKIE = "rag_key"  # set by POST /login (routes/login.py) for the service's HTML pages
_bearer = HTTPBearer(
    auto_error=False, description="An API key from `rag-admin keys create` (roles: customer, agent, qa, admin)."
)

_STATUSES = {
    400: "The body is not valid JSON or form data",
    401: "No API key, or an unknown or revoked one",
    403: "The key's role or customer does not allow this",
    404: "An id in the request names nothing held",
    409: "The object's state forbids this now",
    413: "The request body is larger than allowed",
    429: "Too many requests or streams for this key, or the model's queue is full (see Retry-After)",
    503: "The service is starting, or its model restarts (see Retry-After)",
}


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error statuses a route may answer, with the error body, for the OpenAPI schema."""
    body = {"application/json": {"schema": ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")}}
    return {code: {"description": _STATUSES[code], "model": ErrorOut, "content": body} for code in statuses}


# every authenticated route may answer these
AUTH_RESPONSES = documented(400, 401, 403, 413, 429, 503)


def principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Principal:
    components = get_components(request)
    if request.app.state.settings.auth == "off":
        caller = OPERATOR
    else:
        caller = components.keys.authenticate(credentials.credentials if credentials else _cookie_key(request))
    if caller.origins and request.headers.get("origin") not in caller.origins:
        raise Forbidden("this key works only from the web pages it was made for (its origins)")
    if caller.widget and request.url.path != WIDGET_SESSION_PATH:
        raise Forbidden("a widget key only opens visitor sessions (POST /v1/widget/session)")
    components.quota.hit(caller_id(request, caller), customer=caller.role == "customer", widget=caller.widget)
    return caller


def _cookie_key(request: Request) -> str | None:
    """The key of a browser signed in at ``/login``: for reading only (GET/HEAD), so a page can be
    viewed but a forged cross-site form can change nothing."""
    return request.cookies.get(KEY_COOKIE) if request.method in ("GET", "HEAD") else None


def caller_id(request: Request, caller: Principal) -> str:
    """What limits count against: the key, or the client address when keys are off."""
    return caller.key_id or f"ip:{request.client.host if request.client else '-'}"


def allow(*roles: Role) -> Callable[..., Principal]:
    """A dependency that yields the caller when its role is one of ``roles`` (403 otherwise)."""

    def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        caller.require(*roles)
        return caller

    return check


ANYONE = allow(*ROLES)
Anyone = Annotated[Principal, Depends(ANYONE)]
Agent = Annotated[Principal, Depends(allow("agent", "admin"))]
QA = Annotated[Principal, Depends(allow("qa", "admin"))]
Staff = Annotated[Principal, Depends(allow("agent", "qa", "admin"))]
Admin = Annotated[Principal, Depends(allow("admin"))]


def own_conversation(request: Request, caller: Principal, conversation_id: str | None) -> None:
    """A customer key continues only its own customer's conversations (a new id starts one)."""
    if caller.role != "customer" or conversation_id is None:
        return
    conversations = get_components(request).conversations
    if conversations.exists(conversation_id) and conversations.customer_of(conversation_id) != caller.customer_id:
        raise Forbidden("this conversation belongs to another customer")


# an id in a path: never empty (an empty segment names another route or none)
IdPath = Annotated[str, Path(min_length=1, max_length=256)]
