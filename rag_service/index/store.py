"""The one owner of the index: the Chroma collection (name, configuration, embedder) and the BM25
index beside it, for writes and reads alike.

Consistency model, so that a crash never leaves a document half-replaced:

* ``manifest.json`` (written atomically) says, per ``doc_id``, which chunk ids are its current version.
  Chunk ids contain the content hash, so a new version never overwrites the old one in place.
* Replacing a document: embed and add the new chunks, then switch the manifest, then delete the old
  chunks. A crash before the switch leaves the old version searchable (the new chunks are orphans);
  a crash after it leaves orphans of the old version. Searches only return chunks the manifest lists,
  and ``collect_garbage`` (run at the start of every ingestion) deletes orphans.
* The BM25 index records the manifest generation it was built from and is rebuilt when they differ.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ..config import Settings
from ..errors import ConfigError, NotFound, StoreError
from .documents import Audience, Chunk, DocumentRecord, Hit
from .embeddings import Embedder, embed_query
from .lexical import tokenize

log = logging.getLogger(__name__)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG to the root logger

MANIFEST_VERSION = 1
_BATCH = 1000  # below Chroma's max batch of 5461


@contextmanager
def chroma_errors(action: str) -> Iterator[None]:
    """Chroma's exceptions stop here, as StoreError with the cause chained for the log."""
    try:
        yield
    except (StoreError, NotFound, ConfigError):
        raise
    except Exception as exc:  # chromadb raises a zoo of types (ValueError, ChromaError, HTTP errors)
        raise StoreError(f"index operation failed: {action}") from exc


def _atomic_write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Lexical:
    """A built BM25 index with the chunk ids of its rows."""

    def __init__(self, retriever: Any, ids: list[str], vocab: frozenset[str], generation: int) -> None:
        self.retriever, self.ids, self.vocab, self.generation = retriever, ids, vocab, generation


class Store:
    """Index of one knowledge base. Not safe for two *processes* writing at once (Chroma's embedded
    mode is not); within a process, the API serialises writes."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.embedder = embedder
        self.data_dir = settings.data_dir
        self.collection_name = f"{settings.collection}_{embedder.name}"
        self._embed_batch = settings.embed_batch_size
        self._index_dir = settings.index_dir
        self._manifest_path = settings.index_dir / "manifest.json"
        self._bm25_dir = settings.index_dir / f"bm25_{embedder.name}"
        self._manifest_mtime: int | None = None
        self._docs: dict[str, DocumentRecord] = {}
        # the manifest the cache was built from, the current chunk ids with their audience, the audiences
        self._current: tuple[dict[str, DocumentRecord], dict[str, Audience], frozenset[Audience]] | None = None
        self._vectors_readable = True  # see _vectors_unreadable
        self._generation = 0
        self._lexical: _Lexical | None = None
        with chroma_errors("open"):
            self._client = self._open_client(settings)
            self._collection = self._client.get_or_create_collection(
                name=self.collection_name,
                embedding_function=None,  # never Chroma's default: it downloads a model
                metadata={"embedder": embedder.name, "dim": embedder.dim},
                configuration={
                    "hnsw": {
                        "space": "cosine",
                        "ef_construction": settings.hnsw_ef_construction,
                        "ef_search": settings.hnsw_ef_search,
                        "max_neighbors": settings.hnsw_max_neighbors,
                    }
                },
            )
        meta = self._collection.metadata or {}
        if meta.get("dim") not in (None, embedder.dim):
            raise ConfigError(
                f"collection {self.collection_name!r} holds {meta.get('dim')}-d vectors but the embedder "
                f"gives {embedder.dim}-d; delete {settings.data_dir} or choose another RAG_COLLECTION"
            )
        self._load_manifest()

    @staticmethod
    def _open_client(settings: Settings) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if settings.chroma_url:
            url = urlparse(settings.chroma_url)
            if not url.hostname:
                raise ConfigError(f"RAG_CHROMA_URL={settings.chroma_url!r} is not a URL like http://host:8000")
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)

    # ------------------------------------------------------------------ manifest
    def _load_manifest(self) -> None:
        try:
            stat = self._manifest_path.stat()
        except FileNotFoundError:
            self._docs, self._generation, self._manifest_mtime = {}, 0, None
            return
        data = json.loads(self._manifest_path.read_text(encoding="utf-8"))
        section = data.get("collections", {}).get(self.collection_name, {})
        self._docs = {k: DocumentRecord.from_json(v) for k, v in section.get("documents", {}).items()}
        self._generation = int(section.get("generation", 0))
        self._manifest_mtime = stat.st_mtime_ns

    def _refresh_if_changed(self) -> None:
        """Another process (rag-ingest) may have changed the manifest since we read it."""
        try:
            mtime: int | None = self._manifest_path.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = None
        if mtime != self._manifest_mtime:
            self._load_manifest()

    def _save_manifest(self, docs: dict[str, DocumentRecord]) -> None:
        """Commit ``docs`` as the current state: on disk first, in memory only once that succeeded,
        so a failed write leaves this process agreeing with the file."""
        data: dict[str, Any] = {"version": MANIFEST_VERSION, "collections": {}}
        if self._manifest_path.exists():
            data = json.loads(self._manifest_path.read_text(encoding="utf-8"))
        generation = self._generation + 1
        data.setdefault("collections", {})[self.collection_name] = {
            "generation": generation,
            "documents": {k: v.to_json() for k, v in sorted(docs.items())},
        }
        _atomic_write_json(self._manifest_path, data)
        self._docs, self._generation = docs, generation
        self._manifest_mtime = self._manifest_path.stat().st_mtime_ns

    # ------------------------------------------------------------------ reads
    def documents(self) -> list[DocumentRecord]:
        self._refresh_if_changed()
        return [self._docs[k] for k in sorted(self._docs)]

    def document(self, doc_id: str) -> DocumentRecord | None:
        self._refresh_if_changed()
        return self._docs.get(doc_id)

    def _current_ids(self) -> dict[str, Audience]:
        """Chunk ids of the current versions with their audience; rebuilt only when the manifest changes
        (every search uses it)."""
        if self._current is None or self._current[0] is not self._docs:
            current = {cid: rec.audience for rec in self._docs.values() for cid in rec.chunk_ids}
            self._current = (self._docs, current, frozenset(rec.audience for rec in self._docs.values()))
        return self._current[1]

    def _needs_filter(self, audience: Audience | None) -> bool:
        """Whether a search for ``audience`` must filter: the index also holds another audience's chunks
        (Chroma's filtered search is slower, so a KB of one audience is searched without the filter)."""
        self._current_ids()
        audiences = self._current[2] if self._current else frozenset()
        return audience is not None and bool(audiences - {audience})

    def chunk_count(self) -> int:
        self._refresh_if_changed()
        return sum(rec.n_chunks for rec in self._docs.values())

    def get_chunks(self, chunk_ids: Sequence[str]) -> list[Chunk]:
        """Chunks by id, in the order asked; ids no longer in the index are left out."""
        found: dict[str, Chunk] = {}
        with chroma_errors("get"):
            for start in range(0, len(chunk_ids), _BATCH):
                got = self._collection.get(
                    ids=list(chunk_ids[start : start + _BATCH]), include=["documents", "metadatas"]
                )
                for cid, text, meta in zip(got["ids"], got["documents"] or [], got["metadatas"] or [], strict=False):
                    found[cid] = Chunk.from_metadata(cid, text or "", dict(meta or {}))
        return [found[c] for c in chunk_ids if c in found]

    def similarities(self, vector: Sequence[float], chunks: Sequence[Chunk]) -> dict[str, float]:
        """Cosine similarity of a query vector to stored chunks, so hits found by BM25 alone can be
        held to the same relevance floor as dense hits (their texts are embedded again when Chroma
        cannot give their stored vectors)."""
        if not chunks:
            return {}
        ids, embeddings = [c.chunk_id for c in chunks], None
        if self._vectors_readable:
            try:
                got = self._collection.get(ids=ids, include=["embeddings"])
                ids, embeddings = list(got["ids"]), got["embeddings"]
            except Exception:
                self._vectors_unreadable()
        if embeddings is None or len(embeddings) != len(ids):
            ids = [c.chunk_id for c in chunks]
            embeddings = self.embedder.embed_batch([c.text for c in chunks], kind="passage")
        scores = np.asarray(embeddings, dtype=np.float32) @ np.asarray(vector, dtype=np.float32)
        return {cid: float(score) for cid, score in zip(ids, scores, strict=True)}

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        rec = self.document(doc_id)
        if rec is None:
            raise NotFound(f"no document {doc_id!r}")
        return self.get_chunks(rec.chunk_ids)

    def dense_search(
        self, query: str, *, k: int, audience: Audience | None = "public", vector: Sequence[float] | None = None
    ) -> list[Hit]:
        """Nearest chunks by cosine similarity (score = 1 - distance), current versions only.
        Pass ``vector`` when the query is already embedded."""
        self._refresh_if_changed()
        current = self._current_ids()
        if not current or k <= 0:
            return []
        vector = list(vector) if vector is not None else embed_query(self.embedder, query)
        where = {"audience": audience} if self._needs_filter(audience) else None
        n = min(len(current), k + 16)
        with chroma_errors("query"):
            res = self._collection.query(
                query_embeddings=[vector], n_results=n, where=where, include=["documents", "metadatas", "distances"]
            )
        hits: list[Hit] = []
        rows = zip(
            res["ids"][0],
            (res["documents"] or [[]])[0],
            (res["metadatas"] or [[]])[0],
            (res["distances"] or [[]])[0],
            strict=True,
        )
        for cid, text, meta, dist in rows:
            if cid in current and (audience is None or current[cid] == audience):
                hits.append(Hit(Chunk.from_metadata(cid, text or "", dict(meta or {})), 1.0 - float(dist)))
        return hits[:k]

    def vocabulary(self) -> frozenset[str]:
        """Every term of the indexed passages (the BM25 index's vocabulary, as ``tokenize`` makes them)."""
        self._refresh_if_changed()
        lex = self._lexical_index()
        return lex.vocab if lex else frozenset()

    def lexical_search(self, query: str, *, k: int, audience: Audience | None = "public") -> list[Hit]:
        """BM25 over the same chunks; finds exact names, numbers and rare words dense search blurs."""
        self._refresh_if_changed()
        lex = self._lexical_index()
        tokens = [t for t in tokenize(query) if t in lex.vocab] if lex else []
        if lex is None or not tokens or k <= 0:
            return []
        current = self._current_ids()
        n = min(len(lex.ids), k * 3 + 16)
        idx, scores = lex.retriever.retrieve([tokens], k=n, show_progress=False)
        ranked = [(lex.ids[int(i)], float(s)) for i, s in zip(idx[0], scores[0], strict=False) if float(s) > 0]
        ranked = [(cid, s) for cid, s in ranked if cid in current and (audience is None or current[cid] == audience)]
        ranked = ranked[:k]
        if not ranked:
            return []
        ids = [cid for cid, _ in ranked]
        got = None
        if self._vectors_readable:
            try:  # the chunks and their vectors in one call (the fusion needs both)
                got = self._collection.get(ids=ids, include=["documents", "metadatas", "embeddings"])
            except Exception:  # see _vectors_unreadable: the texts alone, the vectors are recomputed
                self._vectors_unreadable()
        if got is None:
            with chroma_errors("get"):
                got = self._collection.get(ids=ids, include=["documents", "metadatas"])
        embeddings = got.get("embeddings")
        vectors = embeddings if embeddings is not None else [None] * len(got["ids"])
        found: dict[str, tuple[Chunk, Any]] = {}
        for cid, text, meta, emb in zip(
            got["ids"], got["documents"] or [], got["metadatas"] or [], vectors, strict=False
        ):
            found[cid] = (Chunk.from_metadata(cid, text or "", dict(meta or {})), emb)
        return [Hit(found[cid][0], s, found[cid][1]) for cid, s in ranked if cid in found]

    def _vectors_unreadable(self) -> None:
        """Chroma 1.5's embedded store cannot read stored vectors by id once a collection has had
        deletions and was reopened ("Error finding id"; searching is unaffected). Callers then embed
        the chunk texts again, and this store stops asking for stored vectors (each failed try costs a
        round trip per search); said once."""
        if self._vectors_readable:
            log.warning("Chroma cannot read stored vectors by id here; BM25-only hits are embedded again")
            self._vectors_readable = False

    # ------------------------------------------------------------------ writes
    def replace_document(self, record: DocumentRecord, chunks: Sequence[Chunk]) -> None:
        """Make ``chunks`` the current version of ``record.doc_id`` (see the module docstring for why
        this order survives a crash). The lexical index is refreshed by ``refresh_lexical``."""
        if not chunks:
            raise StoreError(f"refusing to index {record.doc_id!r} without chunks")
        old = self._docs.get(record.doc_id)
        vectors: list[list[float]] = []
        for start in range(0, len(chunks), self._embed_batch):
            texts = [c.text for c in chunks[start : start + self._embed_batch]]
            vectors.extend(self.embedder.embed_batch(texts, kind="passage"))
        with chroma_errors("upsert"):
            for start in range(0, len(chunks), _BATCH):
                part = chunks[start : start + _BATCH]
                self._collection.upsert(
                    ids=[c.chunk_id for c in part],
                    embeddings=vectors[start : start + _BATCH],
                    documents=[c.text for c in part],
                    metadatas=[c.metadata() for c in part],
                )
        record.chunk_ids = [c.chunk_id for c in chunks]
        self._save_manifest({**self._docs, record.doc_id: record})
        if old is not None:
            stale = sorted(set(old.chunk_ids) - set(record.chunk_ids))
            self._delete_ids(stale)

    def delete_document(self, doc_id: str) -> DocumentRecord:
        """Remove a document from both indexes; unknown ids raise NotFound."""
        self._refresh_if_changed()
        rec = self._docs.get(doc_id)
        if rec is None:
            raise NotFound(f"no document {doc_id!r}")
        self._save_manifest({k: v for k, v in self._docs.items() if k != doc_id})
        self._delete_ids(rec.chunk_ids)
        self.refresh_lexical()
        return rec

    def _delete_ids(self, ids: Sequence[str]) -> None:
        with chroma_errors("delete"):
            for start in range(0, len(ids), _BATCH):
                self._collection.delete(ids=list(ids[start : start + _BATCH]))

    def collect_garbage(self) -> int:
        """Delete chunks no manifest entry points to (left by a crash mid-replace). Returns how many."""
        self._refresh_if_changed()
        current = self._current_ids()
        with chroma_errors("scan"):
            all_ids: list[str] = self._collection.get(include=[])["ids"]
        orphans = [cid for cid in all_ids if cid not in current]
        if orphans:
            log.info("removing %d orphaned chunks", len(orphans))
            self._delete_ids(orphans)
        return len(orphans)

    # ------------------------------------------------------------------ lexical index
    def _lexical_index(self) -> _Lexical | None:
        if self._lexical is not None and self._lexical.generation == self._generation:
            return self._lexical
        self._lexical = self._load_lexical()
        if self._lexical is None or self._lexical.generation != self._generation:
            self.refresh_lexical()
        return self._lexical

    def _load_lexical(self) -> _Lexical | None:
        import bm25s

        meta_path = self._bm25_dir / "meta.json"
        if not meta_path.exists():
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if not meta["ids"]:
                return _Lexical(None, [], frozenset(), int(meta["generation"]))
            retriever = bm25s.BM25.load(str(self._bm25_dir), show_progress=False)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("BM25 index unreadable (%s); rebuilding", exc)
            return None
        return _Lexical(retriever, list(meta["ids"]), frozenset(retriever.vocab_dict), int(meta["generation"]))

    def refresh_lexical(self) -> bool:
        """Rebuild the BM25 index from the current chunks when the manifest moved on; True if rebuilt."""
        import bm25s

        self._refresh_if_changed()
        if self._lexical is not None and self._lexical.generation == self._generation:
            return False
        on_disk = self._load_lexical()
        if on_disk is not None and on_disk.generation == self._generation:
            self._lexical = on_disk
            return False
        ids = sorted(self._current_ids())
        chunks = self.get_chunks(ids)
        ids = [c.chunk_id for c in chunks]
        corpus = [tokenize(c.text) or ["\u2205"] for c in chunks]
        self._index_dir.mkdir(parents=True, exist_ok=True)  # a new installation asked before its first ingest
        tmp = Path(tempfile.mkdtemp(dir=self._index_dir, prefix="bm25.tmp"))
        try:
            retriever: Any = None
            vocab: frozenset[str] = frozenset()
            if ids:
                retriever = bm25s.BM25()
                retriever.index(corpus, show_progress=False)
                retriever.save(str(tmp), show_progress=False)
                vocab = frozenset(retriever.vocab_dict)
            (tmp / "meta.json").write_text(json.dumps({"generation": self._generation, "ids": ids}), encoding="utf-8")
            old = self._bm25_dir.with_name(self._bm25_dir.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if self._bm25_dir.exists():
                os.replace(self._bm25_dir, old)
            os.replace(tmp, self._bm25_dir)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._lexical = _Lexical(retriever, ids, vocab, self._generation)
        return True

    def close(self) -> None:
        """Chroma's embedded client has no close(); dropping references lets its files go."""
        self._lexical = None
