"""The records that travel between ingestion, the index and retrieval."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Audience = Literal["public", "internal"]
MetadataValue = str | int | float | bool


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage. ``text`` is what the embedder and the LLM see: the document title
    and section heading come first, so a passage about "Kündigungsfrist" still says whose."""

    chunk_id: str
    doc_id: str
    index: int
    text: str
    title: str
    section: str
    source: str
    language: str
    content_hash: str
    audience: Audience = "public"
    page: int | None = None

    def metadata(self) -> dict[str, MetadataValue]:
        """Flat metadata for Chroma, which accepts neither None nor nested values."""
        meta: dict[str, MetadataValue] = {
            "doc_id": self.doc_id,
            "index": self.index,
            "title": self.title,
            "section": self.section,
            "source": self.source,
            "language": self.language,
            "content_hash": self.content_hash,
            "audience": self.audience,
        }
        if self.page is not None:
            meta["page"] = self.page
        return meta

    @classmethod
    def from_metadata(cls, chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
        return cls(
            chunk_id=chunk_id,
            doc_id=str(meta["doc_id"]),
            index=int(meta["index"]),
            text=text,
            title=str(meta.get("title", "")),
            section=str(meta.get("section", "")),
            source=str(meta.get("source", "")),
            language=str(meta.get("language", "")),
            content_hash=str(meta.get("content_hash", "")),
            audience="internal" if meta.get("audience") == "internal" else "public",
            page=int(meta["page"]) if meta.get("page") is not None else None,
        )


@dataclass
class DocumentRecord:
    """What the index knows about one document: the manifest entry that says which chunks are its
    current version. ``fingerprint`` names the parser/chunker/embedder settings that produced them,
    so changing those re-ingests the file even when its bytes did not change."""

    doc_id: str
    title: str
    source: str
    content_hash: str
    language: str
    audience: Audience
    fingerprint: str
    chunk_ids: list[str] = field(default_factory=list)
    root: str | None = None
    ingested_at: str = ""

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_ids)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentRecord:
        return cls(**data)


@dataclass(frozen=True)
class Hit:
    """A chunk found by a search, with the score of the search that found it (higher is better)."""

    chunk: Chunk
    score: float
    vector: Sequence[float] | None = None  # the chunk's embedding, when the search fetched it
