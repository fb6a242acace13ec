"""Load on loopback: many more concurrent clients than the model's queue holds, for a bounded time.

Starts the service in a child process on 127.0.0.1 over a fresh index of a folder (default
``kb_docs/``) and a fresh database, with API keys on: one customer key per client, as a web widget's
visitors would have. Each client asks a question, then a follow-up in the same conversation, then
starts a new conversation, for ``--seconds``; a 429 is waited out as its ``Retry-After`` says.
Afterwards the customers' records are read back through ``GET /v1/customers/{id}/export``.

Prints requests, the 200/429/other split, latency p50/p95 of answered requests, throughput, and the
service's memory (RSS of the server and its model worker) after warm-up, at half time, at the end
and at its peak. Exit code 1 when a status other than 200/429 was seen, an answered exchange is
missing from the records (or a refused one left half a turn), or memory grew by more than 10 %
in the second half.

    .venv/bin/python bench/load.py                       # the real model (make models), 2 minutes
    .venv/bin/python bench/load.py --model paced         # a stand-in that takes the model's time
    .venv/bin/python bench/load.py --clients 1 2 4 8 --seconds 60   # one service, four steps in turn

The answer cache is off unless ``--answer-cache``: the clients repeat a few questions, and with the
cache on most of them would be answered from it; off, every request costs the model.

``--model paced`` replaces the model by one that holds the same queue for as long as the 1.5B model
needs on this machine (75 prompt tokens/s, 24 written tokens/s; ``--speed`` divides it): it measures
the service around the model, not the model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import psutil

# run as `python bench/load.py`, this file's folder comes first on sys.path and would shadow packages
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    ("Wie viel kostet der Tarif NordWind M im Monat?", "Und wie viel Datenvolumen hat er?"),
    ("How long does the shipping of a new device take?", "Can I track the parcel?"),
    ("Wie kann ich meine Rufnummer mitnehmen?", "Was kostet die Mitnahme?"),
    ("How do I reset my voicemail PIN?", "Is that free of charge?"),
    ("Kann ich meinen Vertrag kündigen?", "Welche Frist gilt?"),
]
MAX_SECONDS, MAX_CLIENTS = 600, 256  # bounded: the bench never runs longer or wider than this


class PacedModel:
    """Holds the model's queue (the service's own ``Gate``) for as long as the real model would."""

    name = "paced"

    def __init__(self, max_waiting: int, speed: float) -> None:
        from rag_service.model.llm import Gate

        self.gate = Gate(max_waiting)
        self.speed = speed

    def _tokens(self, messages: Sequence[Any]) -> int:
        return int(1.3 * sum(len(m["content"].split()) for m in messages))

    def yes_probability(self, messages: Sequence[Any]) -> float:
        self.gate.enter()
        try:
            time.sleep(self._tokens(messages) / 75 / self.speed)
            return 0.9
        finally:
            self.gate.leave()

    def stream(self, messages: Sequence[Any], *, max_tokens: int, temperature: float, usage: Any) -> Iterator[str]:
        usage.prompt_tokens = self._tokens(messages)
        self.gate.enter()
        try:
            time.sleep(usage.prompt_tokens / 75 / self.speed)
            usage.first_token_s = usage.prompt_tokens / 75 / self.speed
            for word in messages[-1]["content"].split()[: min(max_tokens, 60)]:
                time.sleep(1 / 24 / self.speed)
                usage.completion_tokens += 1
                yield word + " "
        finally:
            self.gate.leave()

    def close(self) -> None:
        pass


def serve(port: int, model: str, speed: float, keys_file: Path, clients: int) -> None:
    """The child process: the service with the chosen model; writes its clients' keys first."""
    import uvicorn

    from rag_service.api.app import create_app
    from rag_service.components import Components, build_generator
    from rag_service.config import load_settings
    from rag_service.index.embeddings import build_embedder

    settings = load_settings()
    generator = PacedModel(settings.max_queue, speed) if model == "paced" else build_generator(settings)
    components = Components.build(settings, embedder=build_embedder(settings), generator=generator)
    customers = {}
    for i in range(clients):
        customer = f"load-{i:03d}"
        customers[customer] = components.keys.create(role="customer", name=customer, customer_id=customer)[1]
    admin = components.keys.create(role="admin", name="load admin")[1]
    keys_file.write_text(json.dumps({"admin": admin, "customers": customers}))
    uvicorn.run(create_app(settings, components), host="127.0.0.1", port=port, log_level="warning")


def rss_mb(pid: int) -> float:
    """Resident memory of the process and its children (the model worker), in MiB."""
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        return float(sum(p.memory_info().rss for p in procs if p.is_running())) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


class Client:
    def __init__(self, customer: str, key: str) -> None:
        self.customer, self.key = customer, key
        self.answered: Counter[str] = Counter()  # conversation id -> exchanges answered with 200
        self.actions: Counter[str] = Counter()  # what the 200s were: answer, refuse, handoff
        self.statuses: Counter[int] = Counter()
        self.latencies: list[float] = []
        self.missing_retry_after = 0

    async def run(self, http: httpx.AsyncClient, until: float, rng: random.Random) -> None:
        headers = {"Authorization": f"Bearer {self.key}"}
        while time.monotonic() < until:
            conversation: str | None = None
            for question in rng.choice(QUESTIONS):
                while time.monotonic() < until:
                    began = time.monotonic()
                    body: dict[str, Any] = {"question": question}
                    if conversation:
                        body["conversation_id"] = conversation
                    try:
                        r = await http.post("/v1/answer", json=body, headers=headers, timeout=until - began + 60)
                    except httpx.HTTPError:
                        self.statuses[0] += 1  # no response at all
                        return
                    self.statuses[r.status_code] += 1
                    if r.status_code == 200:
                        self.latencies.append(time.monotonic() - began)
                        conversation = r.json()["conversation_id"]
                        self.actions[r.json()["action"]] += 1
                        self.actions["(from the cache)"] += bool(r.json()["timings"].get("cache_hit"))
                        self.answered[conversation] += 1
                        break
                    if r.status_code != 429:
                        return
                    if "retry-after" not in r.headers:
                        self.missing_retry_after += 1
                    wait = float(r.headers.get("retry-after", 1)) * (0.5 + rng.random())  # jitter: no herd
                    await asyncio.sleep(min(wait, max(0.0, until - time.monotonic())))


async def drive(url: str, keys: dict[str, Any], seconds: float, pid: int) -> dict[str, Any]:
    clients = [Client(c, k) for c, k in keys["customers"].items()]
    memory: list[tuple[float, float]] = []
    async with httpx.AsyncClient(base_url=url, limits=httpx.Limits(max_connections=len(clients) + 4)) as http:
        admin = {"Authorization": f"Bearer {keys['admin']}"}
        warm = await http.post("/v1/answer", json={"question": QUESTIONS[0][0]}, headers=admin, timeout=300)
        warm.raise_for_status()  # models loaded, caches warm: memory from here on
        start = time.monotonic()
        until = start + seconds

        async def sample() -> None:
            while time.monotonic() < until + 1:
                memory.append((time.monotonic() - start, rss_mb(pid)))
                await asyncio.sleep(1)

        sampler = asyncio.create_task(sample())
        await asyncio.gather(*(c.run(http, until, random.Random(i)) for i, c in enumerate(clients)))
        elapsed = time.monotonic() - start
        await sampler
        lost = half = 0
        for c in clients:
            export = await http.get(f"/v1/customers/{c.customer}/export", headers=admin, timeout=60)
            held: dict[str, list[dict[str, Any]]] = (
                {conv["id"]: conv["messages"] for conv in export.json()["conversations"]}
                if export.status_code == 200
                else {}
            )
            for conv, n in c.answered.items():
                messages = held.get(conv, [])
                assistant = sum(m["role"] == "assistant" for m in messages)
                lost += max(0, n - assistant)
            for messages in held.values():
                half += abs(
                    sum(m["role"] == "user" for m in messages) - sum(m["role"] == "assistant" for m in messages)
                )
    statuses: Counter[int] = sum((c.statuses for c in clients), Counter())
    latencies = sorted(x for c in clients for x in c.latencies)
    return {
        "clients": len(clients),
        "seconds": elapsed,
        "statuses": statuses,
        "actions": sum((c.actions for c in clients), Counter()),
        "latencies": latencies,
        "memory": memory,
        "lost": lost,
        "half_turns": half,
        "missing_retry_after": sum(c.missing_retry_after for c in clients),
        "conversations": sum(len(c.answered) for c in clients),
    }


def memory_at(samples: list[tuple[float, float]], t: float) -> float:
    return min(samples, key=lambda s: abs(s[0] - t))[1] if samples else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def summary(r: dict[str, Any]) -> dict[str, Any]:
    """The figures of one step, for bench/table.py."""
    st = r["statuses"]
    return {
        "clients": r["clients"],
        "seconds": r["seconds"],
        "requests": sum(st.values()),
        "ok": st[200],
        "busy": st[429],
        "other": sum(n for code, n in st.items() if code not in (200, 429)),
        "p50_s": percentile(r["latencies"], 0.5),
        "p95_s": percentile(r["latencies"], 0.95),
        "per_minute": st[200] / r["seconds"] * 60,
        "from_cache": r["actions"]["(from the cache)"],
        "lost": r["lost"],
        "cold_start_s": r["cold_start_s"],
        "rest_mb": r["rest_mb"],
        "peak_mb": max((m for _, m in r["memory"]), default=0.0),
    }


def report(r: dict[str, Any], queue: int) -> bool:
    st, lat, mem = r["statuses"], r["latencies"], r["memory"]
    total = sum(st.values())
    other = {code: n for code, n in st.items() if code not in (200, 429)}

    def p(q: float) -> float:
        return percentile(lat, q)

    first, mid, last = memory_at(mem, 0), memory_at(mem, r["seconds"] / 2), memory_at(mem, r["seconds"])
    peak = max((m for _, m in mem), default=0.0)
    growth = (last - mid) / mid if mid else 0.0
    print(f"clients {r['clients']} (queue holds {queue} + 1 at the model: {r['clients'] / max(1, queue):.1f}x)")
    print(f"cold start to /ready {r['cold_start_s']:.1f} s, memory at rest {r['rest_mb']:.0f} MiB")
    print(f"duration {r['seconds']:.0f} s, requests {total}")
    print(
        f"200 {st[200]} ({st[200] / max(1, total):.0%}), 429 {st[429]} ({st[429] / max(1, total):.0%}), "
        f"other {sum(other.values())} {dict(other) or ''}"
    )
    print("the 200s: " + ", ".join(f"{action} {n}" for action, n in sorted(r["actions"].items())))
    print(f"answered latency p50 {p(0.5):.2f} s, p95 {p(0.95):.2f} s, throughput {st[200] / r['seconds'] * 60:.1f}/min")
    print(
        f"conversations {r['conversations']}; answered exchanges missing from the records {r['lost']}; "
        f"half turns {r['half_turns']}"
    )
    print(f"429 without Retry-After {r['missing_retry_after']}")
    print(
        f"memory MiB: after warm-up {first:.0f}, half time {mid:.0f}, end {last:.0f}, peak {peak:.0f}; "
        f"second half {growth:+.1%}"
    )
    return not other and r["lost"] == 0 and r["half_turns"] == 0 and r["missing_retry_after"] == 0 and growth <= 0.10


def _ready(url: str, server: subprocess.Popen[bytes], keys_file: Path, timeout_s: float = 600) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200 and keys_file.exists():
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", choices=("real", "paced"), default="real")
    ap.add_argument("--seconds", type=float, default=120)
    ap.add_argument("--clients", type=int, nargs="+", help="default: 8x the queue (RAG_MAX_QUEUE); several: in turn")
    ap.add_argument("--queue", type=int, default=4, help="RAG_MAX_QUEUE of the service")
    ap.add_argument("--speed", type=float, default=1.0, help="paced model: this many times faster than the real one")
    ap.add_argument("--kb", type=Path, default=ROOT / "kb_docs", help="folder to index")
    ap.add_argument("--answer-cache", action="store_true", help="leave the answer cache on")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--serve", nargs=4, metavar=("PORT", "MODEL", "SPEED", "KEYS"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        port, model, speed, keys_file = a.serve
        serve(int(port), model, float(speed), Path(keys_file), int(os.environ["LOAD_CLIENTS"]))
        return 0
    steps = a.clients or [8 * a.queue]
    clients = max(steps)
    if not (0 < a.seconds <= MAX_SECONDS and min(steps) > 0 and clients <= MAX_CLIENTS):
        ap.error(f"--seconds at most {MAX_SECONDS}, --clients at most {MAX_CLIENTS}")
    from ingest.pipeline import ingest_paths
    from rag_service.config import load_settings
    from rag_service.index.embeddings import build_embedder
    from rag_service.index.store import Store
    from rag_service.model.model_files import DEFAULT_GENERATOR, model_path

    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        env = {
            **os.environ,
            "RAG_DATA_DIR": f"{tmp}/data",
            "RAG_DATABASE_URL": f"sqlite:///{tmp}/app.db",
            "RAG_AUTH": "keys",
            "RAG_MAX_QUEUE": str(a.queue),
            "LOAD_CLIENTS": str(clients),
            "RAG_ANSWER_CACHE": "true" if a.answer_cache else "false",
        }
        mine = load_settings()  # the caller's model, though the index and database are fresh
        if a.model == "real" and not mine.llm_url:
            env["RAG_LLM_MODEL_PATH"] = str(mine.llm_model_path or model_path(mine.models_dir, DEFAULT_GENERATOR))
        settings = load_settings(data_dir=Path(tmp) / "data")
        store = Store(settings, build_embedder(settings))
        ingest_paths(store, [a.kb], settings=settings)
        store.close()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        keys_file = Path(tmp) / "keys.json"
        cmd = [sys.executable, __file__, "--serve", str(port), a.model, str(a.speed), str(keys_file)]
        log = Path(tmp) / "service.log"
        began = time.monotonic()
        server = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            if not _ready(url, server, keys_file):
                print(f"the service did not start:\n{log.read_text()[-3000:]}", file=sys.stderr)
                return 1
            cold_start, at_rest = time.monotonic() - began, rss_mb(server.pid)
            keys = json.loads(keys_file.read_text())
            results = []
            for n in steps:
                some = {**keys, "customers": dict(list(keys["customers"].items())[:n])}
                result = asyncio.run(drive(url, some, a.seconds, server.pid))
                result["cold_start_s"], result["rest_mb"] = cold_start, at_rest
                results.append(result)
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        ok = True
        for result in results:
            ok = report(result, a.queue) and ok
        if a.json:
            a.json.write_text(json.dumps([summary(r) for r in results], indent=1))
        if not ok:
            print(f"service log (tail):\n{log.read_text()[-3000:]}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
