"""``/v1/keys``: create, list and revoke API keys (admin keys only); ``rag-admin keys`` does the same."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status
from starlette.concurrency import run_in_threadpool

from ...errors import Conflict
from ..auth import AUTH_RESPONSES, Admin, IdPath, allow, documented
from ..deps import ComponentsDep
from ..schemas import KeyCreated, KeyIn, KeyOut

router = APIRouter(prefix="/v1/keys", tags=["keys"], dependencies=[Depends(allow("admin"))], responses=AUTH_RESPONSES)


@router.get("", response_model=list[KeyOut])
async def list_keys(components: ComponentsDep) -> list[KeyOut]:
    """Every key without its secret (only a prefix to recognise it by)."""
    return [KeyOut.from_core(k) for k in await run_in_threadpool(components.keys.all)]


@router.post("", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
async def create_key(body: KeyIn, components: ComponentsDep) -> KeyCreated:
    """The secret is in this response only; the service keeps its SHA-256."""
    key, secret = await run_in_threadpool(
        lambda: components.keys.create(
            role=body.role, name=body.name, customer_id=body.customer_id, origins=body.origins or ()
        )
    )
    return KeyCreated(**KeyOut.from_core(key).model_dump(), secret=secret)


@router.delete("/{key_id}", response_model=KeyOut, responses=documented(404, 409))
async def revoke_key(key_id: IdPath, components: ComponentsDep, caller: Admin) -> KeyOut:
    """Revoked at once: the next request with the key gets 401. A key cannot revoke itself (an admin
    would lock themselves out; use another admin key or `rag-admin keys revoke`)."""
    if key_id == caller.key_id:
        raise Conflict("a key cannot revoke itself")
    return KeyOut.from_core(await run_in_threadpool(components.keys.revoke, key_id))
