"""Authentication and roles at the HTTP edge: ``Authorization: Bearer <key>`` -> ``Principal``.

Every route declares who may call it with ``allow(...)``; the checks themselves (role, a customer
key's own customer id) live in ``rag_service.access``. With ``RAG_AUTH=off`` (loopback only, see
``rag-serve``) every request acts as the operator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..access import OPERATOR, ROLES, Principal, Role
from ..errors import Forbidden
from .deps import get_components

_bearer = HTTPBearer(
    auto_error=False, description="An API key from `rag-admin keys create` (roles: customer, agent, qa, admin)."
)

# the statuses every authenticated route may answer, for the OpenAPI schema
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No API key, or an unknown or revoked one"},
    403: {"description": "The key's role or customer does not allow this"},
}


def principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Principal:
    components = get_components(request)
    if request.app.state.settings.auth == "off":
        caller = OPERATOR
    else:
        caller = components.keys.authenticate(credentials.credentials if credentials else None)
    components.quota.hit(caller_id(request, caller), customer=caller.role == "customer")
    return caller


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
