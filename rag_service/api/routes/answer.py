"""``POST /v1/answer``: one question, one grounded answer (or a typed refusal or handoff)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from ...answer.types import Query
from ..deps import PipelineDep
from ..schemas import AnswerIn, AnswerOut

router = APIRouter(prefix="/v1", tags=["answers"])


@router.post("/answer", response_model=AnswerOut)
async def answer(body: AnswerIn, pipeline: PipelineDep) -> AnswerOut:
    query = Query(
        question=body.question,
        conversation_id=body.conversation_id,
        customer_id=body.customer_id,
        language=body.language,
    )
    result = await run_in_threadpool(pipeline.answer, query)
    return AnswerOut.from_result(result)
