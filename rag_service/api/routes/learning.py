"""The knowledge base learns from support work: ``/v1/suggestions`` (suggested article changes for a
person to accept or reject) and ``/v1/alerts`` (spikes on one topic)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from ...desk.learning import slug
from ...errors import Conflict, DocumentError, InvalidInput
from ..auth import AUTH_RESPONSES, Admin, Agent, IdPath, Staff, documented
from ..deps import ComponentsDep, SettingsDep
from ..schemas import AcceptIn, AlertOut, DocumentOut, DocumentUploadOut, SuggestionOut
from .documents import index_write_lock

router = APIRouter(prefix="/v1", tags=["support"], responses=AUTH_RESPONSES)


@router.get("/suggestions", response_model=list[SuggestionOut])
async def list_suggestions(
    components: ComponentsDep,
    _: Staff,
    status: Annotated[Literal["open", "accepted", "rejected"], Query()] = "open",
) -> list[SuggestionOut]:
    """Suggested article changes from the last 30 days: drafts agents edited before sending (what they
    added, in their words) and questions refused or handed on at least twice (clustered). The open
    ones are found afresh on every call; nothing is indexed until a person accepts one."""
    learning = components.learning
    found = await run_in_threadpool(learning.refresh if status == "open" else lambda: learning.suggestions(status))
    return [SuggestionOut.from_core(x) for x in found]


@router.post("/suggestions/{suggestion_id}/accept", response_model=DocumentUploadOut, responses=documented(404, 409))
async def accept_suggestion(
    suggestion_id: IdPath,
    body: AcceptIn,
    request: Request,
    components: ComponentsDep,
    settings: SettingsDep,
    caller: Admin,
) -> DocumentUploadOut:
    """Write the article (as accepted, or as proposed) into the knowledge-base folder (``RAG_KB_DIR``)
    and index it; the suggestion is marked accepted with the document id."""
    from ingest.pipeline import SourceFile, ingest_file

    suggestion = await run_in_threadpool(components.learning.get, suggestion_id)
    if suggestion.status != "open":
        raise Conflict(f"suggestion {suggestion_id} was already {suggestion.status}")
    doc_id = body.doc_id or f"suggested/{slug(suggestion.title)}.md"
    if ".." in doc_id.split("/"):
        raise InvalidInput("doc_id must stay inside the knowledge-base folder")
    root = settings.kb_dir or settings.data_dir / "accepted"
    text = body.text or suggestion.proposed

    def accept() -> DocumentUploadOut:
        path = root / doc_id
        with index_write_lock(request):
            if path.exists() or components.store.document(doc_id) is not None:
                raise InvalidInput(f"{doc_id} exists already; name the new article with doc_id")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            source = SourceFile(path=path, doc_id=doc_id, root=str(Path(root).resolve()))
            result = ingest_file(components.store, source, settings=settings)
            if result.status == "failed":
                path.unlink(missing_ok=True)
                raise DocumentError(doc_id, result.reason)
            components.store.refresh_lexical()
            record = components.store.document(doc_id)
        components.learning.decide(suggestion_id, "accepted", caller.name, doc_id=doc_id)
        assert record is not None
        return DocumentUploadOut(**DocumentOut.from_record(record).model_dump(), status=result.status)  # type: ignore[arg-type]

    return await run_in_threadpool(accept)


@router.post("/suggestions/{suggestion_id}/reject", response_model=SuggestionOut, responses=documented(404, 409))
async def reject_suggestion(suggestion_id: IdPath, components: ComponentsDep, caller: Agent) -> SuggestionOut:
    """Not worth an article; it does not come back."""
    decided = await run_in_threadpool(components.learning.decide, suggestion_id, "rejected", caller.name)
    return SuggestionOut.from_core(decided)


@router.get("/alerts", response_model=list[AlertOut])
async def list_alerts(components: ComponentsDep, _: Staff) -> list[AlertOut]:
    """Spikes of the last 24 hours: a topic (the article questions are nearest to) asked about, or
    asked about upset, far more often in an hour than usual. Checked now and every 5 minutes."""

    def run() -> list[AlertOut]:
        components.alerts.check()
        return [AlertOut.from_core(a) for a in components.alerts.recent()]

    return await run_in_threadpool(run)
