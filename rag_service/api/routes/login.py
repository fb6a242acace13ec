"""Browser sign-in for the service's pages (the dashboard): a browser cannot send a Bearer header
when it follows a link, so ``POST /login`` checks a key once and keeps it in an HttpOnly,
SameSite=Strict cookie. The cookie is honoured for GET requests only, so a page can be read but no
state can be changed with it (no cross-site request forgery); revoking the key ends the session."""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ...errors import Unauthorized
from ..auth import KEY_COOKIE
from ..deps import get_components

router = APIRouter(include_in_schema=False)
SESSION_S = 8 * 3600
PAGE_ROLES = ("qa", "admin")  # who may read the pages (the dashboard)

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>rag_service - sign in</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;color:#222}}
input{{width:100%;padding:.5rem;margin:.4rem 0 1rem;font:inherit}}button{{padding:.5rem 1.2rem;font:inherit}}
.error{{color:#b00020}}</style></head><body>
<h1>Sign in</h1><p>Paste an API key with the <b>qa</b> or <b>admin</b> role
(<code>rag-admin keys create --role qa</code>).</p>
{error}<form method="post" action="/login"><label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="{next}"><button type="submit">Sign in</button></form></body></html>"""


def _local(target: str) -> str:
    """Only a path on this service (no open redirect to another site)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/dashboard"


def _page(next_path: str, error: str = "", status: int = 200) -> HTMLResponse:
    notice = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return HTMLResponse(_PAGE.format(error=notice, next=html.escape(_local(next_path))), status_code=status)


@router.get("/login", response_class=HTMLResponse)
async def login_form(next: Annotated[str, Query(max_length=512)] = "/dashboard") -> HTMLResponse:
    return _page(next)


@router.post("/login")
async def login(
    request: Request,
    key: Annotated[str, Form(max_length=512)],
    next: Annotated[str, Form(max_length=512)] = "/dashboard",
) -> Response:
    try:
        caller = await run_in_threadpool(get_components(request).keys.authenticate, key.strip())
    except Unauthorized:
        return _page(next, "This key is unknown or revoked.", status=401)
    if caller.role not in PAGE_ROLES:
        return _page(next, f"A {caller.role} key cannot read these pages; use a qa or admin key.", status=403)
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        KEY_COOKIE,
        key.strip(),
        max_age=SESSION_S,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(KEY_COOKIE, path="/")
    return response
