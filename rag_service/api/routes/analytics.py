"""``GET /v1/analytics`` (JSON) and ``GET /dashboard`` (the same figures as a page)."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from ...components import Components
from ...desk.analytics import analytics
from ...errors import InvalidInput
from ..auth import AUTH_RESPONSES, allow
from ..dashboard import render
from ..deps import ComponentsDep

router = APIRouter(tags=["analytics"], dependencies=[Depends(allow("qa", "admin"))], responses=AUTH_RESPONSES)
_DAY = {"format": "date"}  # a calendar day as written (YYYY-MM-DD), not a number of seconds
FromQ = Annotated[
    str | None,
    Query(alias="from", json_schema_extra=_DAY, description="First day (YYYY-MM-DD); default 29 days before `to`."),
]
ToQ = Annotated[
    str | None,
    Query(alias="to", json_schema_extra=_DAY, description="Last day (YYYY-MM-DD), inclusive; default today (UTC)."),
]


def _day(value: str | None, name: str) -> date | None:
    try:
        if value is None:
            return None
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"'{name}' is no calendar day: {value}") from exc


def _figures(components: Components, since_day: str | None, until_day: str | None) -> dict[str, Any]:
    since, until = _day(since_day, "from"), _day(until_day, "to")
    docs = [d.doc_id for d in components.store.documents()]
    return analytics(components.engine, components.embedder, docs, since, until)


@router.get("/v1/analytics")
async def get_analytics(components: ComponentsDep, since: FromQ = None, until: ToQ = None) -> dict[str, Any]:
    """Volume per day, answer/refuse/handoff rates, topics and knowledge-base gaps (questions
    clustered by embedding), most and never cited documents, feedback, draft outcomes, latency."""
    return await run_in_threadpool(_figures, components, since, until)


@router.get(
    "/dashboard",
    response_class=HTMLResponse,
    responses={200: {"content": {"text/html": {}, "application/json": {}}, "description": "The page, or its figures"}},
)
async def dashboard(
    components: ComponentsDep,
    since: FromQ = None,
    until: ToQ = None,
    format: Annotated[Literal["html", "json"], Query()] = "html",
) -> Any:
    def gather() -> dict[str, Any]:
        figures = _figures(components, since, until)
        components.alerts.check()
        figures["alerts"] = [a.__dict__ for a in components.alerts.recent()]
        figures["suggestions"] = [x.__dict__ for x in components.learning.refresh()]
        return figures

    figures = await run_in_threadpool(gather)
    if format == "json":
        return JSONResponse(jsonable_encoder(figures))
    return HTMLResponse(render(figures))
