"""``POST /v1/answer``: one question, one grounded answer (or a typed refusal or handoff)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from ...answer.types import Query
from ...errors import Forbidden, NotFound
from ..auth import AUTH_RESPONSES, Anyone, IdPath, documented, own_conversation
from ..deps import ComponentsDep, PipelineDep
from ..schemas import AnswerIn, AnswerOut, RecordedAnswerOut

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


@router.get("/answers/{answer_id}", response_model=RecordedAnswerOut, responses=documented(404))
async def recorded_answer(answer_id: IdPath, components: ComponentsDep, caller: Anyone) -> RecordedAnswerOut:
    """An answer as it was sent, with its citations: for clients whose library keeps only the text of
    a chat completion (its id is ``chatcmpl-<answer id>``). A customer key reads only its own."""
    conversations = components.conversations
    exists, customer = await run_in_threadpool(conversations.customer_of_answer, answer_id)
    if not exists:
        raise NotFound(f"no answer {answer_id}")
    if caller.role == "customer" and customer != caller.customer_id:
        raise Forbidden("this answer belongs to another customer")
    found = await run_in_threadpool(conversations.recorded_answer, answer_id)
    if found is None:
        raise NotFound(f"no answer {answer_id}")
    return RecordedAnswerOut(**found)
