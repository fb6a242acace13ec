"""Request bodies larger than allowed are refused with 413 before they are read into memory:
by their ``Content-Length`` at once, or (chunked, or lying) when the bytes received pass the limit."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..errors import PayloadTooLarge

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    def __init__(self, app: ASGIApp, *, default_bytes: int, upload_bytes: int, upload_path: str) -> None:
        self.app, self.default, self.upload, self.upload_path = app, default_bytes, upload_bytes, upload_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload if scope["path"].rstrip("/") == self.upload_path else self.default
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode() or "0"
        if not declared.isdigit() or int(declared) > limit:
            await _refuse(send, limit, headers.get(b"x-request-id", b"").decode())
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise PayloadTooLarge(_message(limit))
            return message

        await self.app(scope, counted, send)


def _message(limit: int) -> str:
    return f"the request body is larger than {limit // 1024} KB"


async def _refuse(send: Send, limit: int, request_id: str) -> None:
    rid = request_id or f"req_{uuid.uuid4().hex[:16]}"
    body = json.dumps({"error": {"type": "payload_too_large", "message": _message(limit), "request_id": rid}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", rid.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
