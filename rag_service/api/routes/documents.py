"""``/v1/documents``: list, upload (multipart) and delete knowledge-base documents."""

from __future__ import annotations

import re
import tempfile
import threading
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ...errors import DocumentError, InvalidInput
from ..auth import AUTH_RESPONSES, Admin, IdPath, Staff, documented
from ..deps import ComponentsDep, SettingsDep
from ..schemas import DocumentOut, DocumentUploadOut

router = APIRouter(prefix="/v1/documents", tags=["documents"], responses=AUTH_RESPONSES)

_DOC_ID = re.compile(r"^[\w][\w .\-/]{0,250}$")


def index_write_lock(request: Request) -> threading.Lock:
    """Index writes are serialised per app: the store is one Chroma collection and one manifest."""
    lock: threading.Lock | None = getattr(request.app.state, "index_write_lock", None)
    if lock is None:
        lock = request.app.state.index_write_lock = threading.Lock()
    return lock


@router.get("", response_model=list[DocumentOut])
async def list_documents(components: ComponentsDep, _: Staff) -> list[DocumentOut]:
    """Agents, QA and admins."""
    return [DocumentOut.from_record(r) for r in components.store.documents()]


@router.post("", response_model=DocumentUploadOut, status_code=201)
async def upload_document(
    request: Request,
    components: ComponentsDep,
    settings: SettingsDep,
    _: Admin,
    file: Annotated[UploadFile, File(description="A help-center article: pdf, docx, pptx, html, md, txt, eml.")],
    doc_id: Annotated[str | None, Form(description="Stable id; default: the file name.")] = None,
    audience: Annotated[Literal["public", "internal"], Form()] = "public",
) -> DocumentUploadOut:
    from ingest.pipeline import SourceFile, ingest_file

    name = Path(file.filename or "").name
    if not name:
        raise InvalidInput("the upload has no file name")
    doc_id = doc_id or name
    if not _DOC_ID.match(doc_id) or ".." in doc_id.split("/"):
        raise InvalidInput("doc_id may contain letters, digits, spaces and . _ - / (at most 250 characters)")
    limit = int(settings.max_file_mb * 1024 * 1024)
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        path = Path(tmp) / name
        size = 0
        with path.open("wb") as out:
            while block := await file.read(1024 * 1024):
                size += len(block)
                if size > limit:
                    raise DocumentError(
                        doc_id, f"the file is larger than {settings.max_file_mb:g} MB (RAG_MAX_FILE_MB)"
                    )
                out.write(block)
        source = SourceFile(path=path, doc_id=doc_id, root=None)

        def ingest() -> DocumentUploadOut:
            with index_write_lock(request):
                result = ingest_file(components.store, source, settings=settings, audience=audience)
                if result.status == "failed":
                    raise DocumentError(doc_id, result.reason)
                components.store.refresh_lexical()
                record = components.store.document(doc_id)
                components.forget_answers(doc_id)
            assert record is not None
            return DocumentUploadOut(**DocumentOut.from_record(record).model_dump(), status=result.status)  # type: ignore[arg-type]

        return await run_in_threadpool(ingest)


@router.delete("/{doc_id:path}", status_code=204, responses=documented(404))
async def delete_document(doc_id: IdPath, request: Request, components: ComponentsDep, _: Admin) -> Response:
    def delete() -> None:
        with index_write_lock(request):
            components.store.delete_document(doc_id)
            components.forget_answers(doc_id)

    await run_in_threadpool(delete)
    return Response(status_code=204)
