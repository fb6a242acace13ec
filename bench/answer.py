"""Service overhead vs. raw llama.cpp on the same prompts, measured side by side in one run.

For one question: the service answers it through HTTP (a real uvicorn server, streaming
/v1/chat/completions); the raw path replays on ``llama_cpp.Llama`` exactly the model calls the
service made for it (recorded in a first, unmeasured run: the search translation, the yes/no
decision as one forward pass, a translation of the quoted sentences or the written answer; same
model file, same max_tokens, greedy). Runs alternate raw/service; the KV cache is cleared before
every run so both start cold. Prints time to first text, total time, the prompt tokens, the ratios
service/raw (target: under 1.10) and the service's time and model calls per stage.

    .venv/bin/python bench/answer.py ["question"] [--runs 3]

Needs the default model (``make models``) and an index of kb_docs (``make index``).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import threading
import time
from typing import Any

import httpx
import uvicorn

from rag_service.answer.cache import AnswerCache
from rag_service.api.app import create_app
from rag_service.components import Components
from rag_service.config import load_settings
from rag_service.model.llm import yes_no_probability


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("question", nargs="?", default="Wie viel kostet der Tarif NordWind M im Monat?")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="bench-answer-")  # throwaway conversations
    # no saved KV prefixes; the model in this process, so both paths can start cold (llama.reset());
    # the worker process's own overhead is bench/worker.py's subject
    settings = load_settings(
        llm_cache_mb=0,
        llm_worker=False,
        database_url=f"sqlite:///{scratch}/app.db",
        auth="off",  # loopback only
        answer_cache=False,  # every service run answers; the cached repeat is measured on its own below
    )
    components = Components.load(settings)
    generator: Any = components.generator  # the in-process llama.cpp generator (llm_worker=False)
    llama = generator._llama  # the same weights and context the service uses
    calls: list[tuple[str, list[int], int]] = []  # (kind, prompt tokens, max_tokens) of each model call
    stream, yes_probability = generator.stream, generator.yes_probability

    def tokens(msgs: list[dict[str, str]]) -> list[int]:
        return list(llama.tokenize(generator.render(msgs).encode(), add_bos=False, special=True))

    def recording_stream(messages, *, max_tokens, temperature, usage):  # type: ignore[no-untyped-def]
        calls.append(("stream", tokens(messages), max_tokens))
        return stream(messages, max_tokens=max_tokens, temperature=temperature, usage=usage)

    def recording_yes(messages):  # type: ignore[no-untyped-def]
        calls.append(("yes/no", tokens(messages), 1))
        return yes_probability(messages)

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, components), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    def raw() -> tuple[float, float]:
        """The recorded calls. The customer's first text comes with the last one: at the end of the
        yes/no pass (a quote in their language is sent then) or at the first token it writes."""
        llama.reset()
        started = time.perf_counter()
        first = 0.0
        for kind, prompt, max_tokens in calls:
            if kind == "yes/no":
                yes_no_probability(llama, prompt, generator._yes, generator._no)
                first = time.perf_counter() - started
                continue
            written = None
            for _ in llama.create_completion(
                prompt, max_tokens=max_tokens, temperature=0.0, top_k=1, repeat_penalty=1.05, stream=True
            ):
                written = written or time.perf_counter() - started
            first = written or time.perf_counter() - started
        return first, time.perf_counter() - started

    stages: list[dict[str, float]] = []

    def service() -> tuple[float, float, str]:
        llama.reset()
        started = time.perf_counter()
        first = None
        text = []
        body = {"messages": [{"role": "user", "content": args.question}], "stream": True}
        with httpx.stream("POST", f"http://127.0.0.1:{port}/v1/chat/completions", json=body, timeout=300) as r:
            for line in r.iter_lines():
                if line.startswith("data: {"):
                    event = json.loads(line[6:])
                    delta = event["choices"][0]["delta"].get("content") if event.get("choices") else None
                    if delta:
                        first = first or time.perf_counter() - started
                        text.append(delta)
                    if (event.get("rag") or {}).get("timings"):
                        stages.append(event["rag"]["timings"])
        return first or 0.0, time.perf_counter() - started, "".join(text)

    generator.stream, generator.yes_probability = recording_stream, recording_yes
    service()  # records the calls the service makes for this question
    generator.stream, generator.yes_probability = stream, yes_probability
    stages.clear()
    raw_runs, svc_runs = [], []
    answer = ""
    for _ in range(args.runs):
        raw_runs.append(raw())
        f, t, answer = service()
        svc_runs.append((f, t))
    # the same question again with the answer cache on: the first ask fills it, the next ones hit it
    components.pipeline.cache = AnswerCache(
        components.engine, components.store, similarity=settings.cache_similarity, ttl_hours=1, entries=100
    )
    service()
    cached = [service()[1] for _ in range(max(3, args.runs))]
    hits = sum(bool(s.get("cache_hit")) for s in stages[-len(cached) :])
    server.should_exit = True
    thread.join(10)

    def med(runs: list[tuple[float, float]], i: int) -> float:
        return statistics.median(r[i] for r in runs)

    print(f"question: {args.question}")
    print(f"model calls: {', '.join(f'{kind} ({len(prompt)} prompt tokens)' for kind, prompt, _ in calls)}")
    print(f"runs: {args.runs}")
    print(f"answer: {answer}")
    print(f"raw llama.cpp : first token {med(raw_runs, 0):6.2f} s   total {med(raw_runs, 1):6.2f} s")
    print(f"service (HTTP): first text  {med(svc_runs, 0):6.2f} s   total {med(svc_runs, 1):6.2f} s")
    first_ratio = med(svc_runs, 0) / med(raw_runs, 0)
    print(f"ratio service/raw: first text {first_ratio:.2f}   total {med(svc_runs, 1) / med(raw_runs, 1):.2f}")
    print("(the service sends text a sentence at a time, once the sentence passed the check)")
    print(
        f"cached repeat (HTTP, streamed): total {1000 * statistics.median(cached):6.1f} ms "
        f"({hits} of {len(cached)} from the cache; {med(svc_runs, 1) / statistics.median(cached):.0f}x faster)"
    )
    if stages:
        print("service stages (median ms, model calls):")
        answered = stages[: args.runs]  # the uncached runs
        for stage in ("route", "understand", "retrieve", "generate", "check"):
            ms = statistics.median(s.get(f"{stage}_ms", 0.0) for s in answered)
            n_calls = statistics.median(s.get(f"{stage}_calls", 0) for s in answered)
            print(f"  {stage:<10} {ms:8.0f} ms  {n_calls:.0f} call(s)")
        print(f"  model calls per question: {statistics.median(s.get('model_calls', 0) for s in answered):.0f}")
    components.close()


if __name__ == "__main__":
    main()
