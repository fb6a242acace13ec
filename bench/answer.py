"""Service overhead vs. raw llama.cpp on the same prompt, measured side by side in one run.

For one question: the service answers it through HTTP (a real uvicorn server, streaming
/v1/chat/completions); the raw path runs ``llama_cpp.Llama.create_completion`` on exactly the
prompts the service built — the search translation, then the answer prompt — (same model file,
same max_tokens, greedy). Runs alternate raw/service; the KV cache is cleared before every run so
both start cold. Prints time to first token, total time, the prompt length in tokens, the ratios
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

import httpx
import uvicorn

from rag_service import prompts
from rag_service.answer.generate import answer_messages
from rag_service.answer.retrieve import retrieve
from rag_service.answer.understand import language_of, translated
from rag_service.api.app import create_app
from rag_service.components import Components
from rag_service.config import load_settings


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
    settings = load_settings(llm_cache_mb=0, llm_worker=False, database_url=f"sqlite:///{scratch}/app.db")
    components = Components.load(settings)
    generator = components.generator
    pipeline = components.pipeline
    code = language_of(args.question, None, [])
    other = translated(generator, args.question, code) if settings.query_translation else None
    queries = [args.question] + ([other] if other else [])
    passages = retrieve(
        pipeline.retriever, queries, audience="public", words=settings.passage_words, question=args.question
    )
    shown = passages[::-1] if settings.passages_best_last else passages
    messages = answer_messages(args.question, shown, prompts.service_texts(code).language)
    llama = generator._llama  # type: ignore[attr-defined]  # the same weights and context the service uses

    def tokens(msgs: list[dict[str, str]]) -> list[int]:
        return list(llama.tokenize(generator.render(msgs).encode(), add_bos=False, special=True))  # type: ignore[attr-defined]

    target = "English" if code == "de" else "German"
    translate_tokens = tokens(
        [
            {"role": "system", "content": prompts.template("translate_system.txt").strip()},
            {"role": "user", "content": f"Translate into {target}:\n{args.question}"},
        ]
    )
    prompt_tokens = tokens(messages)  # type: ignore[arg-type]

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings, components), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    def raw() -> tuple[float, float]:
        llama.reset()
        started = time.perf_counter()
        first = None
        if settings.query_translation:
            for _ in llama.create_completion(translate_tokens, max_tokens=100, temperature=0.0, top_k=1, stream=True):
                pass
        for _ in llama.create_completion(
            prompt_tokens, max_tokens=settings.max_tokens, temperature=0.0, top_k=1, repeat_penalty=1.05, stream=True
        ):
            first = first or time.perf_counter() - started
        return first or 0.0, time.perf_counter() - started

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

    raw_runs, svc_runs = [], []
    answer = ""
    for _ in range(args.runs):
        raw_runs.append(raw())
        f, t, answer = service()
        svc_runs.append((f, t))
    server.should_exit = True
    thread.join(10)

    def med(runs: list[tuple[float, float]], i: int) -> float:
        return statistics.median(r[i] for r in runs)

    print(f"question: {args.question}")
    print(f"answer prompt tokens: {len(prompt_tokens)}  passages: {len(passages)}  runs: {args.runs}")
    print(f"answer: {answer}")
    print(f"raw llama.cpp : first token {med(raw_runs, 0):6.2f} s   total {med(raw_runs, 1):6.2f} s")
    print(f"service (HTTP): first text  {med(svc_runs, 0):6.2f} s   total {med(svc_runs, 1):6.2f} s")
    first_ratio = med(svc_runs, 0) / med(raw_runs, 0)
    print(f"ratio service/raw: first text {first_ratio:.2f}   total {med(svc_runs, 1) / med(raw_runs, 1):.2f}")
    print("(the service sends text a sentence at a time, once the sentence passed the check)")
    if stages:
        print("service stages (median ms, model calls):")
        for stage in ("route", "understand", "retrieve", "generate", "check"):
            ms = statistics.median(s.get(f"{stage}_ms", 0.0) for s in stages)
            calls = statistics.median(s.get(f"{stage}_calls", 0) for s in stages)
            print(f"  {stage:<10} {ms:8.0f} ms  {calls:.0f} call(s)")
        print(f"  model calls per question: {statistics.median(s.get('model_calls', 0) for s in stages):.0f}")
    components.close()


if __name__ == "__main__":
    main()
