"""``POST /v1/chat/completions``: OpenAI-compatible chat over the same pipeline as /v1/answer.

Streaming and non-streaming share one code path (``Pipeline.events``). The first event is
computed before the response starts, so a bad request or a full queue still gets its proper
status (422, 429) instead of a broken stream. A client that disconnects mid-stream closes the
pipeline's generator, which releases the model for the next request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from ...answer.pipeline import new_answer_id
from ...answer.types import Done, Event, Query, TextDelta
from ...desk.conversations import Turn
from ...errors import InvalidInput
from ...model.llm_worker import ModelFailure
from ..auth import AUTH_RESPONSES, Anyone, caller_id, own_conversation
from ..deps import ComponentsDep, PipelineDep
from ..errors import request_id
from ..schemas import ChatCompletionIn, RagInfo, chat_chunk, chat_completion

router = APIRouter(prefix="/v1", tags=["chat"], responses=AUTH_RESPONSES)
log = logging.getLogger("rag_service.api")


def _query(body: ChatCompletionIn, conversation_header: str | None) -> Query:
    turns = [m for m in body.messages if m.role in ("user", "assistant")]
    asked = [i for i, m in enumerate(turns) if m.role == "user" and m.text().strip()]
    if not asked:
        raise InvalidInput("messages need a user message with text")
    question = turns[asked[-1]].text()  # what follows it (an assistant or tool message) is not asked
    history = [Turn(m.role, m.text()) for m in turns[: asked[-1]]]
    return Query(
        question=question,
        conversation_id=body.conversation_id or conversation_header,
        customer_id=body.user,
        history=history or None,  # None: the conversation's stored turns (when conversation_id is given)
        disclose=True,
    )


def _first(events: Iterator[Event]) -> Event:
    return next(events)


@router.post(
    "/chat/completions",
    response_model=None,
    responses={
        200: {
            "description": "The completion; with `stream: true` server-sent chunks ending with `data: [DONE]`",
            "content": {"application/json": {}, "text/event-stream": {}},
        }
    },
)
async def chat_completions(
    body: ChatCompletionIn,
    request: Request,
    pipeline: PipelineDep,
    caller: Anyone,
    components: ComponentsDep,
    x_conversation_id: Annotated[str | None, Header(max_length=64)] = None,
) -> JSONResponse | StreamingResponse:
    query = _query(body, x_conversation_id)
    await run_in_threadpool(own_conversation, request, caller, query.conversation_id)
    answer_id = new_answer_id()  # the completion's id names the answer (GET /v1/answers/{id} has its citations)
    query = replace(query, customer_id=caller.acting_for(query.customer_id), answer_id=answer_id)
    model = body.model or "rag-service"
    completion_id = f"chatcmpl-{answer_id}"
    slot = ExitStack()  # a stream holds one of the key's concurrent streams until it ends
    if body.stream:
        slot.enter_context(components.quota.stream(caller_id(request, caller)))
    try:
        events = await run_in_threadpool(pipeline.events, query)
        first = await run_in_threadpool(_first, events)  # errors here still become proper HTTP statuses
    except BaseException:
        slot.close()
        raise

    if not body.stream:
        parts: list[str] = []
        event: Event = first
        while True:
            if isinstance(event, TextDelta):
                parts.append(event.text)
            else:
                return JSONResponse(
                    chat_completion(event.result, "".join(parts), model, completion_id),
                    headers={"X-Answer-Id": answer_id},
                )
            event = await run_in_threadpool(_first, events)

    async def sse() -> AsyncIterator[str]:
        def data(obj: dict[str, Any]) -> str:
            return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"

        yield data(chat_chunk(completion_id, model, {"role": "assistant", "content": ""}))
        pending: list[Event] = [first]
        try:
            async for event in _chain(pending, events):
                if await request.is_disconnected():
                    log.info("request %s: client left mid-stream; freeing the model", request_id(request))
                    return
                if isinstance(event, TextDelta):
                    yield data(chat_chunk(completion_id, model, {"content": event.text}))
                elif isinstance(event, Done):
                    result = event.result
                    yield data(
                        chat_chunk(
                            completion_id,
                            model,
                            {},
                            "stop",
                            citations=[c.__dict__ for c in result.citations],
                            rag=RagInfo.from_result(result).model_dump(),
                            usage={
                                "prompt_tokens": result.prompt_tokens,
                                "completion_tokens": result.completion_tokens,
                                "total_tokens": result.prompt_tokens + result.completion_tokens,
                            },
                        )
                    )
            yield "data: [DONE]\n\n"
        except Exception as exc:
            # the status line is sent: the failure travels as an error event in the stream
            failed = isinstance(exc, ModelFailure)
            log.error("request %s: stream failed", request_id(request), exc_info=not failed)
            yield data(
                {
                    "error": {
                        "type": "model_unavailable" if failed else "internal_error",
                        "message": "The assistant is restarting after a fault; please retry in a few seconds."
                        if failed
                        else "The answer could not be completed.",
                        "request_id": request_id(request),
                    }
                }
            )
        finally:
            events.close()  # type: ignore[attr-defined]
            slot.close()

    return StreamingResponse(
        sse(),
        media_type="text/event-stream",
        headers={
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            "X-Request-Id": request_id(request),
            "X-Answer-Id": answer_id,  # known before the stream: its citations at GET /v1/answers/{id}
        },
    )


async def _chain(first: list[Event], rest: Iterator[Event]) -> AsyncIterator[Event]:
    for event in first:
        yield event
    async for event in iterate_in_threadpool(rest):
        yield event
