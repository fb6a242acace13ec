"""Prompt and generation speed of llama.cpp builds, side by side in one run.

The installed build (the portable one, see LLAMA_CMAKE_ARGS in the Makefile) against other builds of
llama-cpp-python, each installed into a folder of its own (``pip install --no-deps --target DIR
llama_cpp_python-….whl``). Every build runs in its own process, turn by turn, on the same model,
prompt and thread count; prints prompt tokens/s, generation tokens/s, the system-info line and the
ratio to the first build.

    .venv/bin/python bench/llama_build.py --model data/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf \\
        --build native=/tmp/native-site [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PROMPT = (
    "Passages:\n"
    + "\n".join(
        f"[{i}] Tarif {i}: Der Tarif kostet {i * 3},90 € im Monat, enthält {i * 5} GB Datenvolumen und ist "
        f"monatlich kündbar. Die Aktivierung dauert bis zu {i} Werktage; danach gilt die Mindestlaufzeit nicht."
        for i in range(1, 13)
    )
    + "\nQuestion: Welcher Tarif hat das meiste Datenvolumen? Answer in German."
)


def measure(model: str, threads: int, gen_tokens: int) -> dict[str, object]:
    """One build, in this process: a cold prompt (to its first token), then ``gen_tokens`` more tokens."""
    import llama_cpp

    llama = llama_cpp.Llama(model, n_ctx=2048, n_threads=threads, n_threads_batch=threads, n_batch=512, verbose=False)
    tokens = llama.tokenize(PROMPT.encode(), add_bos=False, special=True)
    began = time.perf_counter()
    stamps = []  # one per generated token; the first comes once the whole prompt is evaluated
    for _ in llama.generate(tokens, temp=0.0, top_k=1):
        stamps.append(time.perf_counter())
        if len(stamps) > gen_tokens:
            break
    info = llama_cpp.llama_print_system_info()
    return {
        "prompt_tokens": len(tokens),
        "prompt_tps": len(tokens) / (stamps[0] - began),
        "gen_tps": gen_tokens / (stamps[-1] - stamps[0]),
        "system_info": " ".join((info.decode() if isinstance(info, bytes) else str(info)).split()),
    }


def run_build(site: str | None, args: argparse.Namespace) -> dict[str, object]:
    env = dict(os.environ)
    if site:
        env["PYTHONPATH"] = site + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, __file__, "--model", args.model, "--threads", str(args.threads), "--child"]
    cmd += ["--gen-tokens", str(args.gen_tokens)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--build", action="append", default=[], metavar="LABEL=SITE_DIR")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--gen-tokens", type=int, default=96)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.model, args.threads, args.gen_tokens)))
        return

    builds: list[tuple[str, str | None]] = [("installed", None)]
    builds += [(b.partition("=")[0], b.partition("=")[2]) for b in args.build]
    results: dict[str, list[dict[str, object]]] = {label: [] for label, _ in builds}
    for _ in range(args.runs):  # turn by turn, so drift of the machine hits every build alike
        for label, site in builds:
            results[label].append(run_build(site, args))

    def med(label: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in results[label])  # type: ignore[arg-type]

    base = builds[0][0]
    print(f"{args.runs} runs each, {args.threads} threads, prompt {results[base][0]['prompt_tokens']} tokens")
    print(f"{'build':<12} {'prompt tok/s':>13} {'ratio':>6} {'gen tok/s':>10} {'ratio':>6}")
    for label, _ in builds:
        p, g = med(label, "prompt_tps"), med(label, "gen_tps")
        print(f"{label:<12} {p:>13.1f} {p / med(base, 'prompt_tps'):>6.2f} {g:>10.1f} {g / med(base, 'gen_tps'):>6.2f}")
    for label, _ in builds:
        print(f"{label}: {results[label][0]['system_info']}")


if __name__ == "__main__":
    main()
