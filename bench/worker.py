"""The model in its supervised worker process against the model in the API process, side by side.

Same model file, same settings, same prompts (the service's own prompt for a question over the
kb_docs index), alternating backend by backend: for each question a cold prompt, then a follow-up
that shares the system prompt and passages (the KV prefix is reused). Prints first-token and total
time per backend, medians over the questions, and the ratio worker / in-process.

    .venv/bin/python bench/worker.py [--questions 3]

Needs the default model (``make models``) and an index of kb_docs (``make index``).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

from rag_service import prompts
from rag_service.answer.generate import answer_messages
from rag_service.components import Components, llama_spec
from rag_service.config import load_settings
from rag_service.language import detect_language
from rag_service.model.llm import Generator, Usage
from rag_service.model.llm_worker import WorkerGenerator

QUESTIONS = [
    ("Wie viel kostet der Tarif NordWind M im Monat?", "Und wie viel Datenvolumen hat er?"),
    ("How long does the shipping of a new device take?", "Can I track the parcel?"),
    ("Wie kann ich meine Rufnummer mitnehmen?", "Was kostet die Mitnahme?"),
    ("How do I reset my voicemail PIN?", "Is that free of charge?"),
]


def timed(generator: Generator, messages: Any, max_tokens: int) -> tuple[float, float]:
    usage = Usage()
    began = time.perf_counter()
    for _ in generator.stream(messages, max_tokens=max_tokens, temperature=0.0, usage=usage):
        pass
    return usage.first_token_s or 0.0, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=120)
    args = parser.parse_args()

    scratch = tempfile.mkdtemp(prefix="bench-worker-")
    settings = load_settings(llm_worker=False, database_url=f"sqlite:///{scratch}/app.db")
    components = Components.load(settings)  # its generator: llama.cpp in this process
    worker = WorkerGenerator(llama_spec(settings), max_waiting=0)
    backends: list[tuple[str, Generator]] = [("in-process", components.generator), ("worker", worker)]
    pipeline = components.pipeline
    times: dict[str, dict[str, list[float]]] = {name: {} for name, _ in backends}
    for question, follow_up in QUESTIONS[: args.questions]:
        language = prompts.service_texts(detect_language(question)).language
        passages = pipeline.retriever.retrieve([question])
        cold = answer_messages(question, passages, language)
        warm = answer_messages(follow_up, passages, language)
        for name, generator in backends:
            for kind, messages in (("cold", cold), ("follow-up", warm)):
                first, total = timed(generator, messages, args.max_tokens)
                times[name].setdefault(f"{kind} first", []).append(first)
                times[name].setdefault(f"{kind} total", []).append(total)
    worker.close()
    components.close()

    columns = list(times["in-process"])
    print(f"{args.questions} questions, max {args.max_tokens} tokens, medians in seconds")
    print(f"{'backend':<12}" + "".join(f"{c:>17}" for c in columns))
    for name, _ in backends:
        print(f"{name:<12}" + "".join(f"{statistics.median(times[name][c]):>17.2f}" for c in columns))
    ratios = [
        statistics.median(times["worker"][c]) / max(statistics.median(times["in-process"][c]), 1e-9) for c in columns
    ]
    print(f"{'ratio':<12}" + "".join(f"{r:>17.2f}" for r in ratios))


if __name__ == "__main__":
    main()
