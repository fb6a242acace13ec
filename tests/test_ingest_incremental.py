"""Incremental ingestion: unchanged files cost nothing, changed files leave no stale or duplicate
chunk in either index, prune and delete remove documents from both, a crash keeps the old version."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import delete, ingest_paths
from rag_service.config import Settings
from rag_service.index.store import Store

from .conftest import CountingEmbedder


def _found(store: Store, query: str, needle: str) -> tuple[bool, bool]:
    dense = any(needle in h.chunk.text for h in store.dense_search(query, k=10))
    lexical = any(needle in h.chunk.text for h in store.lexical_search(query, k=10))
    return dense, lexical


def test_second_run_does_no_work(store: Store, settings: Settings, kb_copy: Path, embedder: CountingEmbedder) -> None:
    first = ingest_paths(store, [kb_copy], settings=settings)
    assert first.count("added") == 3 and embedder.passages > 0
    embedder.passages = 0
    second = ingest_paths(store, [kb_copy], settings=settings)
    assert second.count("unchanged") == 3
    assert embedder.passages == 0


def test_edited_document_replaces_all_old_chunks(store: Store, settings: Settings, kb_copy: Path) -> None:
    ingest_paths(store, [kb_copy], settings=settings)
    before = store.chunk_count()
    doc = kb_copy / "geraeteversand.txt"
    doc.write_text(doc.read_text(encoding="utf-8").replace("2 bis 3 Werktage", "4 bis 5 Werktage"), encoding="utf-8")
    report = ingest_paths(store, [kb_copy], settings=settings)
    assert [r.doc_id for r in report.results if r.status == "updated"] == ["geraeteversand.txt"]
    assert _found(store, "Lieferzeit Werktage", "2 bis 3 Werktage") == (False, False)
    assert _found(store, "Lieferzeit Werktage", "4 bis 5 Werktage") == (True, True)
    assert store.chunk_count() == before
    ids = [h.chunk.chunk_id for h in store.dense_search("Lieferzeit", k=50)]
    assert len(ids) == len(set(ids))
    assert store.collect_garbage() == 0  # nothing orphaned in Chroma either


def test_prune_removes_documents_whose_files_are_gone(store: Store, settings: Settings, kb_copy: Path) -> None:
    ingest_paths(store, [kb_copy], settings=settings)
    (kb_copy / "contact.html").unlink()
    report = ingest_paths(store, [kb_copy], settings=settings, prune_missing=True)
    assert [r.doc_id for r in report.results if r.status == "deleted"] == ["contact.html"]
    assert store.document("contact.html") is None
    assert _found(store, "English service line phone number", "6639 4400") == (False, False)


def test_without_prune_missing_files_stay(store: Store, settings: Settings, kb_copy: Path) -> None:
    ingest_paths(store, [kb_copy], settings=settings)
    (kb_copy / "contact.html").unlink()
    ingest_paths(store, [kb_copy], settings=settings)
    assert store.document("contact.html") is not None


def test_delete_one_document_from_both_indexes(store: Store, settings: Settings, kb_copy: Path) -> None:
    ingest_paths(store, [kb_copy], settings=settings)
    assert _found(store, "Datenvolumen NordWind M 19,90", "19,90") == (True, True)
    results = delete(store, ["tarife-mobilfunk.md", "no-such-doc.md"])
    assert [(r.doc_id, r.status) for r in results] == [("tarife-mobilfunk.md", "deleted"), ("no-such-doc.md", "failed")]
    assert _found(store, "Datenvolumen NordWind M 19,90", "19,90") == (False, False)
    assert store.document("geraeteversand.txt") is not None


def test_crash_during_replace_keeps_old_version(
    store: Store, settings: Settings, kb_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_paths(store, [kb_copy], settings=settings)
    doc = kb_copy / "geraeteversand.txt"
    doc.write_text(doc.read_text(encoding="utf-8").replace("mit DHL", "mit Hermes"), encoding="utf-8")

    def crash(docs: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(store, "_save_manifest", crash)
    with pytest.raises(RuntimeError):
        ingest_paths(store, [kb_copy], settings=settings)
    monkeypatch.undo()
    assert _found(store, "Versand DHL Hermes", "mit DHL") == (True, True)
    assert _found(store, "Versand DHL Hermes", "mit Hermes") == (False, False)
    # the next run removes the orphaned half-written version and applies the edit
    report = ingest_paths(store, [kb_copy], settings=settings)
    assert [r.doc_id for r in report.results if r.status == "updated"] == ["geraeteversand.txt"]
    assert _found(store, "Versand DHL Hermes", "mit Hermes") == (True, True)
    assert _found(store, "Versand DHL Hermes", "mit DHL") == (False, False)


def test_index_survives_reopening(settings: Settings, embedder: CountingEmbedder, kb_copy: Path) -> None:
    first = Store(settings, embedder)
    ingest_paths(first, [kb_copy], settings=settings)
    first.close()
    reopened = Store(settings, embedder)
    assert len(reopened.documents()) == 3
    assert _found(reopened, "Sendungsverfolgung Paket", "Sendungsnummer") == (True, True)
    chunk = reopened.chunks_of("tarife-mobilfunk.md")[0]
    assert (chunk.doc_id, chunk.title, chunk.language, chunk.index) == (
        "tarife-mobilfunk.md",
        "Mobilfunk-Tarife von NordWind Mobil",
        "de",
        0,
    )
    assert len(chunk.content_hash) == 64
