"""The support desk: handoffs agents pick up, customer profiles, feedback on answers."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Query, Response, status
from fastapi.encoders import jsonable_encoder
from starlette.concurrency import run_in_threadpool

from ...errors import Forbidden
from ..auth import AUTH_RESPONSES, Agent, Anyone, IdPath, documented
from ..deps import ComponentsDep
from ..schemas import (
    AgentIn,
    CustomerIn,
    CustomerOut,
    ErasedOut,
    FeedbackIn,
    FeedbackOut,
    HandoffList,
    HandoffOut,
)

router = APIRouter(prefix="/v1", tags=["support"], responses=AUTH_RESPONSES)


@router.get("/handoffs", response_model=HandoffList)
async def list_handoffs(
    components: ComponentsDep,
    _: Agent,
    status_: Annotated[Literal["open", "claimed", "closed"] | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> HandoffList:
    """Newest first; ``?status=open`` is the queue agents work from."""
    rows = await run_in_threadpool(components.support.handoffs, status=status_, limit=limit, offset=offset)
    return HandoffList(data=[HandoffOut.from_core(h) for h in rows])


@router.get("/handoffs/{handoff_id}", response_model=HandoffOut, responses=documented(404))
async def get_handoff(handoff_id: IdPath, components: ComponentsDep, _: Agent) -> HandoffOut:
    return HandoffOut.from_core(await run_in_threadpool(components.support.handoff, handoff_id))


@router.post("/handoffs/{handoff_id}/claim", response_model=HandoffOut, responses=documented(404, 409))
async def claim_handoff(handoff_id: IdPath, body: AgentIn, components: ComponentsDep, _: Agent) -> HandoffOut:
    """409 when another agent claimed it first."""
    return HandoffOut.from_core(await run_in_threadpool(components.support.claim_handoff, handoff_id, body.agent))


@router.post("/handoffs/{handoff_id}/close", response_model=HandoffOut, responses=documented(404, 409))
async def close_handoff(handoff_id: IdPath, body: AgentIn, components: ComponentsDep, _: Agent) -> HandoffOut:
    return HandoffOut.from_core(await run_in_threadpool(components.support.close_handoff, handoff_id, body.agent))


@router.put(
    "/customers/{customer_id}",
    response_model=CustomerOut,
    responses={
        201: {"model": CustomerOut, "description": "Created"},
        200: {"description": "Replaced"},
        **documented(404),
    },
)
async def put_customer(
    customer_id: IdPath, body: CustomerIn, components: ComponentsDep, response: Response, _: Agent
) -> CustomerOut:
    """Create or replace the profile (201 when created)."""
    customer, created = await run_in_threadpool(
        lambda: components.support.put_customer(
            customer_id, name=body.name, language=body.language, plan=body.plan, notes=body.notes
        )
    )
    if created:
        response.status_code = status.HTTP_201_CREATED
    return CustomerOut.from_core(customer)


@router.get("/customers/{customer_id}", response_model=CustomerOut, responses=documented(404))
async def get_customer(customer_id: IdPath, components: ComponentsDep, _: Agent) -> CustomerOut:
    return CustomerOut.from_core(await run_in_threadpool(components.support.customer, customer_id))


@router.get("/customers/{customer_id}/export", responses=documented(404))
async def export_customer(customer_id: IdPath, components: ComponentsDep, _: Agent) -> dict[str, Any]:
    """Everything held about the customer (GDPR Art. 15/20): profile, conversations with every
    message, handoffs, drafts, feedback, keys (without secrets). 404 when nothing is held."""
    return cast(dict[str, Any], jsonable_encoder(await run_in_threadpool(components.privacy.export, customer_id)))


@router.delete("/customers/{customer_id}", response_model=ErasedOut, responses=documented(404))
async def erase_customer(customer_id: IdPath, components: ComponentsDep, _: Agent) -> ErasedOut:
    """Erase everything held about the customer (GDPR Art. 17), so that none of it remains in the
    database files; what was deleted, counted per kind. 404 when nothing was held."""
    return ErasedOut(customer_id=customer_id, deleted=await run_in_threadpool(components.privacy.erase, customer_id))


@router.post("/feedback", response_model=FeedbackOut, status_code=status.HTTP_201_CREATED, responses=documented(404))
async def feedback(body: FeedbackIn, components: ComponentsDep, caller: Anyone) -> FeedbackOut:
    """Thumbs up or down on an answer (``id`` of an answer response), from a customer or an agent;
    a customer key rates only its own customer's answers."""
    if caller.role == "customer":
        known, owner = await run_in_threadpool(components.conversations.customer_of_answer, body.answer_id)
        if known and owner != caller.customer_id:
            raise Forbidden("this answer was given to another customer")
    feedback_id = await run_in_threadpool(
        components.support.add_feedback, body.answer_id, body.rating, body.comment, body.source
    )
    return FeedbackOut(id=feedback_id, answer_id=body.answer_id, rating=body.rating)
