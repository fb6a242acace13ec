"""``POST /v1/answer``: one question, one grounded answer (or a typed refusal or handoff)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ...answer.types import Query
from ..auth import AUTH_RESPONSES, Anyone, own_conversation
from ..deps import PipelineDep
from ..schemas import AnswerIn, AnswerOut

router = APIRouter(prefix="/v1", tags=["answers"], responses=AUTH_RESPONSES)


@router.post("/answer", response_model=AnswerOut)
async def answer(body: AnswerIn, pipeline: PipelineDep, caller: Anyone, request: Request) -> AnswerOut:
    """Any key; a customer key answers only for its own customer id and conversations."""
    await run_in_threadpool(own_conversation, request, caller, body.conversation_id)
    query = Query(
        question=body.question,
        conversation_id=body.conversation_id,
        customer_id=caller.acting_for(body.customer_id),
        language=body.language,
    )
    result = await run_in_threadpool(pipeline.answer, query)
    return AnswerOut.from_result(result)
