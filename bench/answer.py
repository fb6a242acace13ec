"""Service overhead vs. raw llama.cpp on the same prompts, measured side by side in one run.

For one question: the service answers it through HTTP (a real uvicorn server, streaming
/v1/chat/completions); the raw path replays on ``llama_cpp.Llama`` exactly the model calls the
service made for it (recorded in a first, unmeasured run: the search translation, the yes/no
decision as one forward pass, a translation of the quoted sentences or the written answer; same
model file, same max_tokens, greedy). Runs alternate raw/service; the KV cache is cleared before
every run so both start cold. Prints time to first text, total time, the prompt tokens, the ratios
service/raw (target: under 1.10) and the service's time and model calls per stage.

A follow-up sharing the prefix: the same question's answer is followed by ``--follow-up`` in the
same conversation, with the model's prompt cache on (``RAG_LLM_CACHE_MB``) and warmed by an earlier,
different follow-up (as on a service that has answered follow-ups before). Both arms start from the
same model state, built by replaying the same calls; then the follow-up is timed raw and through
the service, and once more raw from a cold model to show what the shared prefix saves.

    .venv/bin/python bench/answer.py ["question"] [--runs 3] [--follow-up "..."] [--json FILE]

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
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from rag_service.answer.cache import AnswerCache
from rag_service.api.app import create_app
from rag_service.components import Components
from rag_service.config import load_settings
from rag_service.model.llm import compact_ram_cache, yes_no_probability


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


Call = tuple[str, list[int], int]  # (kind, prompt tokens, max_tokens) of one model call
WARM = ("Wie kann ich meine Rufnummer mitnehmen?", "Was kostet die Mitnahme?")  # an earlier conversation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("question", nargs="?", default="Wie viel kostet der Tarif NordWind M im Monat?")
    parser.add_argument("--follow-up", default="Und wie viel Datenvolumen hat er?")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
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
    calls: list[Call] = []  # the model calls of the request being recorded
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

    def replay(recorded: list[Call]) -> tuple[float, float]:
        """The recorded calls on raw llama.cpp, from the model's present state. The customer's first
        text comes with the last one: at the end of the yes/no pass (a quote in their language is
        sent then) or at the first token it writes."""
        started = time.perf_counter()
        first = 0.0
        for kind, prompt, max_tokens in recorded:
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

    def ask(messages: list[dict[str, str]]) -> tuple[float, float, str]:
        """One chat request through HTTP, streamed: time to the first text, total, the text."""
        started = time.perf_counter()
        first = None
        text = []
        body = {"messages": messages, "stream": True}
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

    def record(messages: list[dict[str, str]]) -> tuple[list[Call], str]:
        calls.clear()
        generator.stream, generator.yes_probability = recording_stream, recording_yes
        try:
            text = ask(messages)[2]
        finally:
            generator.stream, generator.yes_probability = stream, yes_probability
        return list(calls), text

    def conversation(question: str, answer: str, follow_up: str) -> list[dict[str, str]]:
        return [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
            {"role": "user", "content": follow_up},
        ]

    # 1. the first question, cold: raw llama.cpp and the service alternate
    llama.reset()
    first_calls, answer = record([{"role": "user", "content": args.question}])
    stages.clear()
    raw_runs, svc_runs = [], []
    for _ in range(args.runs):
        llama.reset()
        raw_runs.append(replay(first_calls))
        llama.reset()
        f, t, answer = ask([{"role": "user", "content": args.question}])
        svc_runs.append((f, t))
    answered = stages[: args.runs]

    # 2. a follow-up sharing the prefix: the prompt cache on and warmed by an earlier follow-up
    _, warm_answer = record([{"role": "user", "content": WARM[0]}])
    warm_follow_calls, _ = record(conversation(WARM[0], warm_answer, WARM[1]))
    follow_calls, follow_text = record(conversation(args.question, answer, args.follow_up))
    stages.clear()

    def prepared() -> None:
        """The same model state for both arms: an empty prompt cache, then the earlier conversation's
        follow-up and this conversation's first question replayed."""
        llama.reset()
        llama.set_cache(compact_ram_cache(256 * 1024 * 1024))
        replay(warm_follow_calls)
        replay(first_calls)

    follow_raw, follow_svc, follow_cold = [], [], []
    for _ in range(args.runs):
        prepared()
        follow_raw.append(replay(follow_calls))
        prepared()
        f, t, follow_text = ask(conversation(args.question, answer, args.follow_up))
        follow_svc.append((f, t))
        llama.reset()
        llama.set_cache(None)
        follow_cold.append(replay(follow_calls))
    follow_stages = stages[: args.runs]

    # 3. the same question again with the answer cache on: the first ask fills it, the next ones hit it
    components.pipeline.cache = AnswerCache(
        components.engine, components.store, similarity=settings.cache_similarity, ttl_hours=1, entries=100
    )
    stages.clear()
    ask([{"role": "user", "content": args.question}])
    cached = [ask([{"role": "user", "content": args.question}])[1] for _ in range(max(3, args.runs))]
    hits = sum(bool(s.get("cache_hit")) for s in stages[-len(cached) :])
    server.should_exit = True
    thread.join(10)

    def med(runs: list[tuple[float, float]], i: int) -> float:
        return statistics.median(r[i] for r in runs)

    def described(recorded: list[Call]) -> str:
        return ", ".join(f"{kind} ({len(prompt)} prompt tokens)" for kind, prompt, _ in recorded)

    print(f"question: {args.question}")
    print(f"model calls: {described(first_calls)}")
    print(f"runs: {args.runs}")
    print(f"answer: {answer}")
    print(f"raw llama.cpp : first token {med(raw_runs, 0):6.2f} s   total {med(raw_runs, 1):6.2f} s")
    print(f"service (HTTP): first text  {med(svc_runs, 0):6.2f} s   total {med(svc_runs, 1):6.2f} s")
    first_ratio = med(svc_runs, 0) / med(raw_runs, 0)
    print(f"ratio service/raw: first text {first_ratio:.2f}   total {med(svc_runs, 1) / med(raw_runs, 1):.2f}")
    print("(the service sends text a sentence at a time, once the sentence passed the check)")
    print(f"follow-up: {args.follow_up}")
    print(f"  model calls: {described(follow_calls)}")
    print(f"  answer: {follow_text}")
    print(f"  raw llama.cpp, shared prefix: first {med(follow_raw, 0):6.2f} s   total {med(follow_raw, 1):6.2f} s")
    print(f"  service (HTTP), shared prefix: first {med(follow_svc, 0):6.2f} s   total {med(follow_svc, 1):6.2f} s")
    print(f"  raw llama.cpp, cold model:    first {med(follow_cold, 0):6.2f} s   total {med(follow_cold, 1):6.2f} s")
    print(f"  ratio service/raw: total {med(follow_svc, 1) / med(follow_raw, 1):.2f}")
    print(
        f"cached repeat (HTTP, streamed): total {1000 * statistics.median(cached):6.1f} ms "
        f"({hits} of {len(cached)} from the cache; {med(svc_runs, 1) / statistics.median(cached):.0f}x faster)"
    )
    if answered:
        print("service stages (median ms, model calls):")
        for stage in ("route", "understand", "retrieve", "generate", "check"):
            ms = statistics.median(s.get(f"{stage}_ms", 0.0) for s in answered)
            n_calls = statistics.median(s.get(f"{stage}_calls", 0) for s in answered)
            print(f"  {stage:<10} {ms:8.0f} ms  {n_calls:.0f} call(s)")
        print(f"  model calls per question: {statistics.median(s.get('model_calls', 0) for s in answered):.0f}")
    if args.json:
        figures = {
            "question": args.question,
            "runs": args.runs,
            "raw_first_s": med(raw_runs, 0),
            "raw_total_s": med(raw_runs, 1),
            "service_first_s": med(svc_runs, 0),
            "service_total_s": med(svc_runs, 1),
            "model_calls": len(first_calls),
            "follow_up": args.follow_up,
            "follow_raw_first_s": med(follow_raw, 0),
            "follow_raw_total_s": med(follow_raw, 1),
            "follow_service_first_s": med(follow_svc, 0),
            "follow_service_total_s": med(follow_svc, 1),
            "follow_cold_total_s": med(follow_cold, 1),
            "follow_model_calls": len(follow_calls),
            "follow_cache_hits": sum(bool(s.get("cache_hit")) for s in follow_stages),
            "cached_s": statistics.median(cached),
            "cached_hits": hits,
            "cached_runs": len(cached),
        }
        args.json.write_text(json.dumps(figures, indent=1))
    components.close()


if __name__ == "__main__":
    main()
