"""``POST /v1/triage``: category, priority, language, sentiment, queue and the articles for a ticket."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from ...db import now
from ..auth import AUTH_RESPONSES, Agent
from ..deps import ComponentsDep
from ..schemas import TriageIn, TriageOut

router = APIRouter(prefix="/v1", tags=["support"], responses=AUTH_RESPONSES)
RECENT = timedelta(days=7)  # contacts in this window make a repeat contact


@router.post("/triage", response_model=TriageOut)
async def triage(body: TriageIn, components: ComponentsDep, caller: Agent) -> TriageOut:
    """Where a ticket goes and how soon: no model call (embeddings and the language data files).
    With ``customer_id``, the customer's conversations of the last 7 days count as earlier contacts
    (two or more raise the priority)."""
    customer = caller.acting_for(body.customer_id)

    def run() -> TriageOut:
        repeat = components.conversations.conversations_since(customer, now() - RECENT) if customer else 0
        return TriageOut.from_core(components.triage.triage(body.subject, body.body, repeat_contacts=repeat))

    return await run_in_threadpool(run)
