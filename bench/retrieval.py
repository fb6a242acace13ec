"""Retrieval at scale: the service's hybrid retrieval against raw Chroma + raw bm25s on the same data,
and Chroma's HNSW recall against brute force, at 10k and 100k chunks, measured side by side in one run.

The corpus is synthetic so that 100k chunks build in minutes on a laptop CPU: chunks belong to 500
topics; a chunk's text is words of its topic (what BM25 sees) and its vector is its topic's centre
plus noise (what Chroma sees), from a deterministic stand-in embedder. Queries are drawn the same
way. What is measured is the machinery around the two indexes, not the embedding model:

- ours: ``Retriever.retrieve([question])`` (dense search + BM25 + rank fusion + current-version and
  audience filters + near-duplicate removal + chunk fetch), p50/p95 over the queries;
- raw: ``collection.query`` with the same vector and ``n_results``, ``bm25s.retrieve`` with the same
  tokens and ``collection.get`` of the BM25 hits' texts: the calls any pipeline on these two libraries
  makes to get the same candidates with their texts;
- HNSW recall@k: Chroma's top k against the exact top k by cosine over all vectors (numpy).

    .venv/bin/python bench/retrieval.py [--sizes 10000 100000] [--queries 200] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# run as `python bench/retrieval.py`, this file's folder comes first on sys.path and would shadow packages
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from rag_service.config import Settings  # noqa: E402
from rag_service.index.documents import Chunk, DocumentRecord  # noqa: E402
from rag_service.index.lexical import tokenize  # noqa: E402
from rag_service.index.retrieval import Retriever  # noqa: E402
from rag_service.index.store import Store  # noqa: E402

TOPICS, WORDS_PER_TOPIC, DIM = 500, 40, 384


class SyntheticEmbedder:
    """A chunk's vector: the centre of the topic its text names (``t<topic>``), plus noise seeded by
    the text, normalised. Deterministic, and fast enough for 100k chunks."""

    name, dim, max_tokens, relevance_floor = "synthetic", DIM, 512, -1.0

    def __init__(self, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.centres = rng.normal(size=(TOPICS, DIM)).astype(np.float32)

    def vector(self, text: str) -> np.ndarray:
        topic = int(text.split()[0][1:]) if text.startswith("t") else 0
        noise = np.random.default_rng(int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest()))
        v = self.centres[topic] + 0.9 * noise.normal(size=DIM).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_batch(self, texts: Sequence[str], *, kind: str) -> list[list[float]]:
        return [self.vector(t).tolist() for t in texts]

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def text_of(topic: int, rng: np.random.Generator, words: int = 30) -> str:
    chosen = rng.integers(0, WORDS_PER_TOPIC, size=words)
    shared = rng.integers(0, 2000, size=words // 3)  # words every topic uses
    return f"t{topic} " + " ".join([f"w{topic}x{w}" for w in chosen] + [f"common{c}" for c in shared])


def build(store: Store, n: int, per_doc: int = 100, seed: int = 1) -> float:
    rng = np.random.default_rng(seed)
    began = time.perf_counter()
    for d in range(n // per_doc):
        chunks = []
        for i in range(per_doc):
            topic = int(rng.integers(0, TOPICS))
            text = text_of(topic, rng)
            h = hashlib.sha256(text.encode()).hexdigest()[:16]
            chunks.append(Chunk(f"d{d}-{i}-{h}", f"doc{d}", i, text, f"Doc {d}", "", f"doc{d}.md", "en", h))
        record = DocumentRecord(f"doc{d}", f"Doc {d}", f"doc{d}.md", f"h{d}", "en", "public", "bench")
        store.replace_document(record, chunks)
    store.refresh_lexical()
    return time.perf_counter() - began


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def measure(n: int, queries: int, k: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="rag-bench-retrieval-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", top_k=k)
        embedder = SyntheticEmbedder()
        store = Store(settings, embedder)  # type: ignore[arg-type]
        build_s = build(store, n)
        retriever = Retriever.configured(store, settings)
        rng = np.random.default_rng(99)
        qs = [text_of(int(rng.integers(0, TOPICS)), rng, words=8) for _ in range(queries)]
        vectors = [embedder.vector(q) for q in qs]
        collection = store._collection  # the raw Chroma collection the store writes to
        bm25 = store._lexical_index()
        assert bm25 is not None
        candidates = retriever.candidates

        def raw(q: str, v: np.ndarray) -> None:
            collection.query(
                query_embeddings=[v.tolist()],
                n_results=candidates + 16,
                include=["documents", "metadatas", "distances"],
            )
            tokens = [t for t in tokenize(q) if t in bm25.vocab]
            idx, _ = bm25.retriever.retrieve([tokens], k=candidates * 3 + 16, show_progress=False)
            top = [bm25.ids[int(i)] for i in idx[0][:candidates]]
            collection.get(ids=top, include=["documents", "metadatas"])  # the BM25 hits' texts

        def ours(q: str, v: np.ndarray) -> None:
            retriever.retrieve([q])

        for q, v in zip(qs[:10], vectors[:10], strict=True):  # warm both paths
            raw(q, v)
            ours(q, v)
        times: dict[str, list[float]] = {"ours": [], "raw": []}
        for q, v in zip(qs, vectors, strict=True):  # alternating, so both see the same machine state
            for name, fn in (("raw", raw), ("ours", ours)):
                began = time.perf_counter()
                fn(q, v)
                times[name].append(time.perf_counter() - began)

        got = collection.get(include=["embeddings"])
        ids, matrix = got["ids"], np.asarray(got["embeddings"], dtype=np.float32)
        recall = []
        for v in vectors[:100]:
            exact = {ids[i] for i in np.argsort(-(matrix @ v))[:k]}
            found = set(collection.query(query_embeddings=[v.tolist()], n_results=k, include=[])["ids"][0])
            recall.append(len(exact & found) / k)
        store.close()
    return {
        "chunks": float(n),
        "build_s": build_s,
        "ours_p50": 1000 * statistics.median(times["ours"]),
        "ours_p95": 1000 * percentile(times["ours"], 0.95),
        "raw_p50": 1000 * statistics.median(times["raw"]),
        "raw_p95": 1000 * percentile(times["raw"], 0.95),
        "recall": float(np.mean(recall)),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("-k", type=int, default=4)
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    a = ap.parse_args()
    print(
        f"{'chunks':>8} {'build s':>8} {'ours p50/p95 ms':>16} {'raw p50/p95 ms':>15} "
        f"{'ratio p50/p95':>14} {'recall@k':>9}"
    )
    results = []
    for n in a.sizes:
        r = measure(n, a.queries, a.k)
        results.append({**r, "k": a.k})
        print(
            f"{n:>8} {r['build_s']:>8.0f} {r['ours_p50']:>7.1f} / {r['ours_p95']:<6.1f} {r['raw_p50']:>6.1f} / "
            f"{r['raw_p95']:<6.1f} {r['ours_p50'] / r['raw_p50']:>6.2f} / {r['ours_p95'] / r['raw_p95']:<5.2f} "
            f"{r['recall']:>9.3f}"
        )
        sys.stdout.flush()
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
