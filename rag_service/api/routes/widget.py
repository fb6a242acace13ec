"""The web chat: ``GET /widget.js`` (the script a company puts in its help center), ``GET /demo``
(a help-center page with the widget on it), ``POST /v1/widget/session`` (a widget key opens a
visitor session: a key of its own for one browser) and ``POST /v1/conversations/{id}/handoff``
(the "talk to a person" button)."""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ... import prompts
from ...desk.support import hand_over
from ...errors import NotFound
from ..auth import AUTH_RESPONSES, WIDGET_SESSION_PATH, Anyone, IdPath, documented, own_conversation
from ..deps import ComponentsDep
from ..schemas import HandoffRequestIn, HandoffRequestOut, VisitorSessionOut

STATIC = Path(__file__).resolve().parent.parent / "static"
pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/v1", tags=["widget"], responses=AUTH_RESPONSES)


@cache
def _static(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


@pages.get("/widget.js")
async def widget_js() -> Response:
    """The chat widget: plain JavaScript, nothing else loaded (no fonts, no CDN)."""
    return Response(
        _static("widget.js"),
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


_DEMO = {
    "de": (
        "Hilfe-Center (Demo)",
        "Eine Hilfe-Center-Seite mit dem Chat unten rechts. So binden Sie ihn auf Ihren Seiten ein:",
        "Für die Demo: <code>rag-admin keys create --role customer --name demo --origin {origin}</code>, "
        "dann diese Seite mit <code>?key=…</code> öffnen.",
    ),
    "en": (
        "Help center (demo)",
        "A help-center page with the chat at the bottom right. Put it on your own pages with:",
        "For the demo: <code>rag-admin keys create --role customer --name demo --origin {origin}</code>, "
        "then open this page with <code>?key=…</code>.",
    ),
}


@pages.get("/demo", response_class=HTMLResponse)
async def demo(
    request: Request,
    key: Annotated[str | None, Query(max_length=200)] = None,
    lang: Annotated[str, Query(pattern="^(de|en)$")] = "en",
) -> HTMLResponse:
    """A help-center page with the widget, for trying it out: ``/demo?key=<widget key>&lang=de``."""
    origin = str(request.base_url).rstrip("/")
    title, intro, setup = _DEMO[lang]
    script = ""
    if key:
        script = f'<script src="/widget.js" data-key="{html.escape(key, quote=True)}" defer></script>'
    page = _static("demo.html")
    for name, value in (
        ("lang", lang),
        ("title", html.escape(title)),
        ("intro", html.escape(intro)),
        ("setup", "" if key else f'<p class="setup">{setup.format(origin=html.escape(origin))}</p>'),
        ("origin", html.escape(origin)),
        ("script", script),
    ):
        page = page.replace("{" + name + "}", value)
    return HTMLResponse(
        page, headers={"Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'"}
    )


@router.post(
    WIDGET_SESSION_PATH.removeprefix("/v1"), response_model=VisitorSessionOut, status_code=status.HTTP_201_CREATED
)
async def widget_session(components: ComponentsDep, caller: Anyone) -> VisitorSessionOut:
    """A widget key (a customer key with origins and no customer id, sent from one of its pages)
    opens a session for one visitor: a customer key of the visitor's own, bound to a new customer id,
    valid for 30 days and only as long as the widget key. The visitor's conversations, feedback and
    handoffs are theirs alone; export or erase them by the customer id."""
    key, secret = await run_in_threadpool(components.keys.visitor, caller)
    return VisitorSessionOut(
        key=secret,
        customer_id=key.customer_id or "",
        expires_at=key.expires_at.isoformat(timespec="seconds") if key.expires_at else "",
    )


@router.post(
    "/conversations/{conversation_id}/handoff",
    response_model=HandoffRequestOut,
    status_code=status.HTTP_201_CREATED,
    responses=documented(404),
)
async def request_handoff(
    conversation_id: IdPath,
    body: HandoffRequestIn,
    request: Request,
    components: ComponentsDep,
    caller: Anyone,
) -> HandoffRequestOut:
    """The customer asks for a person: the conversation goes to the agents' queue with its transcript
    (one open handoff per conversation; asking again returns the same one)."""
    await run_in_threadpool(own_conversation, request, caller, conversation_id)
    if not await run_in_threadpool(components.conversations.exists, conversation_id):
        raise NotFound("no such conversation")
    customer = await run_in_threadpool(components.conversations.customer_of, conversation_id)
    language = body.language or "en"
    handoff_id = await run_in_threadpool(
        lambda: hand_over(
            conversation_id,
            customer,
            answer_id=None,
            reason="explicit_request",
            language=language,
            conversations=components.conversations,
            support=components.support,
            notifier=components.notifier,
        )
    )
    return HandoffRequestOut(
        handoff_id=handoff_id, conversation_id=conversation_id, message=prompts.service_texts(language).handoff
    )
