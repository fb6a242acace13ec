"""`make bench`: every benchmark in one run, then one table of the service against the raw engines.

Runs in turn (never two model jobs at once), each in its own process, writing its figures as JSON:

- ``bench/ingest.py``     full ingest of ``kb_docs/`` vs. the raw embedder on the same chunks;
- ``bench/retrieval.py``  hybrid retrieval vs. raw Chroma + raw bm25s at 10k and 100k chunks, and
  Chroma's HNSW recall against brute force;
- ``bench/answer.py``     first text and total vs. raw llama.cpp on the same prompts, a follow-up
  sharing the prefix, a cached repeat (needs the model and an index of ``kb_docs/``: ``make index``);
- ``bench/load.py``       1, 2, 4, 8 concurrent clients against one service (answer cache off), cold
  start to ``/ready`` and memory at rest.

The progress of each goes to stderr; the table goes to stdout. Exit code 1 when a benchmark failed or
a target was missed (targets: ingest ≥ 0.8× the raw embedder, retrieval ≤ 1.2× raw at 100k, answer
≤ 1.05× raw llama.cpp, cached repeat ≤ 0.1 s).

    .venv/bin/python bench/table.py [--seconds 60] [--runs 3] [--sizes 10000 100000] [--clients 1 2 4 8]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run(script: str, *args: str, out: Path) -> Any:
    """One benchmark in its own process; its figures, or None when it failed."""
    cmd = [sys.executable, str(ROOT / "bench" / script), *args, "--json", str(out)]
    print(f"\n$ {' '.join(cmd[1:])}", file=sys.stderr, flush=True)
    began = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, stdout=sys.stderr, check=False)
    print(f"({script}: {time.monotonic() - began:.0f} s, exit {done.returncode})", file=sys.stderr, flush=True)
    if not out.exists():
        return None
    return json.loads(out.read_text())


def cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def commit() -> str:
    got = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return got.stdout.strip() or "?"


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str, str]] = []
        self.missed: list[str] = []

    def row(self, what: str, ours: str, raw: str, ratio: str = "", target: str = "", met: bool | None = None) -> None:
        if met is not None:
            target = f"{target} {'met' if met else 'MISSED'}"
            if not met:
                self.missed.append(what)
        self.rows.append((what, ours, raw, ratio, target))

    def print(self) -> None:
        head = ("measure", "rag_service", "raw engine", "ratio", "target")
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in self.rows:
            print("| " + " | ".join(r) + " |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60, help="per load step")
    ap.add_argument("--runs", type=int, default=3, help="answer runs per arm")
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8])
    a = ap.parse_args()
    t = Table()
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-table-") as tmp:
        out = Path(tmp)
        ingest = run("ingest.py", out=out / "ingest.json")
        retrieval = run("retrieval.py", "--sizes", *map(str, a.sizes), out=out / "retrieval.json")
        answer = run("answer.py", "--runs", str(a.runs), out=out / "answer.json")
        load = run("load.py", "--clients", *map(str, a.clients), "--seconds", str(a.seconds), out=out / "load.json")

    print()
    print(
        f"rag_service bench, {datetime.date.today()}, commit {commit()}, {cpu()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print()
    if ingest:
        ours, raw = ingest["chunks"] / ingest["ingest_s"], ingest["chunks"] / ingest["raw_s"]
        t.row(
            f"ingest kb_docs ({ingest['chunks']} chunks)",
            f"{ours:.1f} chunks/s",
            f"{raw:.1f} chunks/s (embedder alone)",
            f"{ours / raw:.2f}",
            "≥ 0.80",
            ours / raw >= 0.8,
        )
        cold = ingest["chunks"] / ingest["cold_s"]
        t.row(
            "ingest, the first folder in a new process",
            f"{cold:.1f} chunks/s",
            "(+ the parsers' imports, once per process)",
            f"{cold / raw:.2f}",
        )
    else:
        failed.append("ingest.py")
    for r in retrieval or []:
        n = int(r["chunks"])
        ratio = r["ours_p95"] / r["raw_p95"]
        t.row(
            f"retrieval at {n // 1000}k chunks, p50 / p95",
            f"{r['ours_p50']:.1f} / {r['ours_p95']:.1f} ms",
            f"{r['raw_p50']:.1f} / {r['raw_p95']:.1f} ms (Chroma + bm25s)",
            f"{r['ours_p50'] / r['raw_p50']:.2f} / {ratio:.2f}",
            "≤ 1.20" if n >= 100_000 else "",
            ratio <= 1.2 if n >= 100_000 else None,
        )
        t.row(f"HNSW recall@{r['k']} at {n // 1000}k chunks", f"{r['recall']:.3f}", "1 (brute force)")
    if not retrieval:
        failed.append("retrieval.py")
    if answer:
        first, total = (
            answer["service_first_s"] / answer["raw_first_s"],
            answer["service_total_s"] / answer["raw_total_s"],
        )
        t.row(
            f"answer, first text / total ({answer['model_calls']} model calls)",
            f"{answer['service_first_s']:.2f} / {answer['service_total_s']:.2f} s",
            f"{answer['raw_first_s']:.2f} / {answer['raw_total_s']:.2f} s (llama.cpp, same prompts)",
            f"{first:.2f} / {total:.2f}",
            "≤ 1.05",
            max(first, total) <= 1.05,
        )
        follow = answer["follow_service_total_s"] / answer["follow_raw_total_s"]
        t.row(
            f"follow-up sharing the prefix, total ({answer['follow_model_calls']} model calls)",
            f"{answer['follow_service_total_s']:.2f} s",
            f"{answer['follow_raw_total_s']:.2f} s (cold model: {answer['follow_cold_total_s']:.2f} s)",
            f"{follow:.2f}",
            "≤ 1.05",
            follow <= 1.05,
        )
        t.row(
            f"cached repeat ({answer['cached_hits']} of {answer['cached_runs']} hits)",
            f"{1000 * answer['cached_s']:.0f} ms",
            f"{answer['service_total_s']:.2f} s answered",
            f"{answer['cached_s'] / answer['service_total_s']:.3f}",
            "≤ 0.1 s",
            answer["cached_s"] <= 0.1 and answer["cached_hits"] == answer["cached_runs"],
        )
    else:
        failed.append("answer.py")
    t.print()
    if load:
        print()
        print(
            f"Concurrent clients (one service, one model, answer cache off, {a.seconds:.0f} s per step): "
            f"cold start to /ready {load[0]['cold_start_s']:.1f} s, memory at rest {load[0]['rest_mb']:.0f} MiB"
        )
        print()
        print("| clients | requests | 200 | 429 (share) | other | answered p50 / p95 | answers per minute | peak MiB |")
        print("|---|---|---|---|---|---|---|---|")
        for s in load:
            share = s["busy"] / max(1, s["requests"])
            print(
                f"| {s['clients']} | {s['requests']} | {s['ok']} | {s['busy']} ({share:.0%}) | {s['other']} | "
                f"{s['p50_s']:.1f} / {s['p95_s']:.1f} s | {s['per_minute']:.1f} | {s['peak_mb']:.0f} |"
            )
            if s["other"] or s["lost"]:
                t.missed.append(f"load at {s['clients']} clients: other statuses or lost records")
    else:
        failed.append("load.py")
    for what in failed:
        print(f"FAILED: {what} (its output is above, on stderr)")
    for what in t.missed:
        print(f"target missed: {what}")
    return 1 if failed or t.missed else 0


if __name__ == "__main__":
    sys.exit(main())
