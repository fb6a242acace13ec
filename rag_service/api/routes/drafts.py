"""``POST /v1/drafts``: a cited reply draft for a support agent; ``/outcome`` records its fate."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status
from starlette.concurrency import run_in_threadpool

from ...desk.drafts import CustomerContext, Ticket, TicketMessage
from ..auth import AUTH_RESPONSES, IdPath, allow, documented
from ..deps import ComponentsDep
from ..schemas import DraftIn, DraftOut, DraftOutcomeIn, DraftOutcomeOut

router = APIRouter(
    prefix="/v1", tags=["drafts"], dependencies=[Depends(allow("agent", "admin"))], responses=AUTH_RESPONSES
)


@router.post("/drafts", response_model=DraftOut, status_code=status.HTTP_201_CREATED, responses=documented(404))
async def create_draft(body: DraftIn, components: ComponentsDep) -> DraftOut:
    """404 when ``customer_id`` names no stored profile (send ``customer`` inline instead)."""
    ticket = Ticket(
        subject=body.subject,
        messages=tuple(TicketMessage(m.role, m.text) for m in body.messages),
        customer_id=body.customer_id,
        customer=(
            CustomerContext(
                name=body.customer.name,
                plan=body.customer.plan,
                language=body.customer.language,
                earlier_tickets=tuple(body.customer.earlier_tickets),
            )
            if body.customer
            else None
        ),
    )
    return DraftOut.from_core(await run_in_threadpool(components.drafter.draft, ticket))


@router.post("/drafts/{draft_id}/outcome", response_model=DraftOutcomeOut, responses=documented(404, 409))
async def draft_outcome(draft_id: IdPath, body: DraftOutcomeIn, components: ComponentsDep) -> DraftOutcomeOut:
    """Sent as is, edited (``final_text`` = what was sent) or discarded; 409 when already recorded."""
    row = await run_in_threadpool(components.support.draft_outcome, draft_id, body.outcome, body.final_text)
    return DraftOutcomeOut(**row)
