"""A LangChain retriever over the service's hybrid index (dense + BM25, fused, near-duplicates
dropped), for chains that want our passages but their own prompt and model::

    from rag_service.integrations.langchain import HybridRetriever

    retriever = HybridRetriever.from_settings()        # RAG_* settings: the index `rag-ingest` built
    docs = retriever.invoke("Was kostet das Abo City?")  # Documents with doc_id, title, source, …

Internal articles are left out unless ``audience=None`` (a retriever for the support team). For the
service's own answers use its OpenAI-compatible endpoint with LangChain's ``ChatOpenAI`` (README).
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ..config import Settings, load_settings
from ..index.documents import Audience
from ..index.embeddings import build_embedder
from ..index.retrieval import Retriever
from ..index.store import Store


class HybridRetriever(BaseRetriever):
    """``retriever``: the service's ``Retriever``; ``k``: passages per query (default: RAG_TOP_K)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Retriever
    k: int | None = None
    audience: Audience | None = "public"

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> HybridRetriever:
        settings = settings or load_settings()
        return cls(retriever=Retriever.configured(Store(settings, build_embedder(settings)), settings), **kwargs)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        passages = self.retriever.retrieve([query], top_k=self.k, audience=self.audience)
        return [
            Document(
                page_content=p.chunk.text,
                id=p.chunk.chunk_id,
                metadata={
                    "doc_id": p.chunk.doc_id,
                    "chunk_id": p.chunk.chunk_id,
                    "title": p.chunk.title,
                    "section": p.chunk.section,
                    "source": p.chunk.source,
                    "language": p.chunk.language,
                    "page": p.chunk.page,
                    "similarity": p.similarity,
                },
            )
            for p in passages
        ]
