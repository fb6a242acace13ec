"""``GET /v1/analytics`` (JSON) and ``GET /dashboard`` (the same figures as a page)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from ...components import Components
from ...desk.analytics import analytics
from ...errors import InvalidInput
from ..auth import AUTH_RESPONSES, allow
from ..dashboard import render
from ..deps import ComponentsDep

router = APIRouter(tags=["analytics"], dependencies=[Depends(allow("qa", "admin"))], responses=AUTH_RESPONSES)
FromQ = Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD); default 29 days before `to`.")]
ToQ = Annotated[date | None, Query(alias="to", description="Last day (YYYY-MM-DD), inclusive; default today (UTC).")]


def _figures(components: Components, since: date | None, until: date | None) -> dict[str, Any]:
    if since and until and since > until:
        raise InvalidInput("'from' must not be after 'to'")
    if since and until and (until - since).days > 366:
        raise InvalidInput("the range may span at most 366 days")
    docs = [d.doc_id for d in components.store.documents()]
    return analytics(components.engine, components.embedder, docs, since, until)


@router.get("/v1/analytics")
async def get_analytics(components: ComponentsDep, since: FromQ = None, until: ToQ = None) -> dict[str, Any]:
    """Volume per day, answer/refuse/handoff rates, topics and knowledge-base gaps (questions
    clustered by embedding), most and never cited documents, feedback, draft outcomes, latency."""
    return await run_in_threadpool(_figures, components, since, until)


@router.get("/dashboard", response_class=HTMLResponse)
async def dashboard(
    components: ComponentsDep,
    since: FromQ = None,
    until: ToQ = None,
    format: Annotated[Literal["html", "json"], Query()] = "html",
) -> Any:
    figures = await run_in_threadpool(_figures, components, since, until)
    if format == "json":
        return JSONResponse(figures)
    return HTMLResponse(render(figures))
