"""Pick the hallucination guard's threshold on dev questions only.

Input: the ``report.json`` of a ``rag-eval run`` made with ``RAG_GUARD_THRESHOLD=0`` (the judged
check scores every sentence but removes nothing; the exact checks still apply). For each candidate
threshold the guard's decision is replayed on the recorded scores: a sentence below it is removed,
and an answer whose first statement is below it becomes a refusal. Printed per threshold, on the
chosen split: answered share, false-refusal rate, key-fact recall (facts still in the kept text),
and the eval judge's hallucination rate over the kept claims.

    python scripts/calibrate_guard.py out_t0/report.json --split dev
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from eval.metrics import fact_found


def replay(row: dict[str, Any], t: float) -> tuple[str, list[str]]:
    """(action, kept sentence texts) of one question under threshold ``t``."""
    if row.get("action") != "answer":
        return str(row.get("action")), []
    kept: list[str] = []
    core_seen = False
    for g in row.get("grounding") or []:
        if g["status"] == "no_claim":
            kept.append(g["text"])
            continue
        passed = g["status"] == "verified" and (g["score"] is None or g["score"] >= t)
        if not core_seen:
            core_seen = True
            if not passed:
                return "refuse", []
        if passed:
            kept.append(g["text"])
    return ("answer", kept) if core_seen else ("refuse", [])


def figures(rows: list[dict[str, Any]], t: float) -> dict[str, float | int]:
    answerable = [r for r in rows if r["type"] == "answerable"]
    refused = facts = 0
    hallucinated = answered = 0
    for r in rows:
        action, kept = replay(r, t)
        if r["type"] == "answerable":
            if action != "answer":
                refused += 1
            elif r["key_facts"]:
                text = " ".join(kept)
                facts += sum(fact_found(f, text) for f in r["key_facts"]) / len(r["key_facts"])
        if action == "answer":
            verdicts = {v["claim"]: v.get("supported") for v in r.get("verdicts") or []}
            judged = [verdicts.get(k) for k in kept if verdicts.get(k) is not None]
            if judged:
                answered += 1
                hallucinated += not all(judged)
    return {
        "t": t,
        "answered": answered,
        "false_refusal": refused / len(answerable) if answerable else 0.0,
        "key_fact_recall": facts / len(answerable) if answerable else 0.0,
        "hallucination_rate": hallucinated / answered if answered else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("report", type=Path)
    parser.add_argument("--split", default="dev")
    args = parser.parse_args()
    report = json.loads(args.report.read_text(encoding="utf-8"))
    rows = [q for q in report["questions"] if args.split in ("all", q.get("split"))]
    print(f"{len(rows)} questions of split {args.split}")
    print(f"{'t':>5} {'answered':>8} {'false_ref':>9} {'key_facts':>9} {'halluc':>7}")
    for t in (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7):
        f = figures(rows, t)
        print(
            f"{t:5.2f} {f['answered']:8d} {f['false_refusal']:9.3f} {f['key_fact_recall']:9.3f} "
            f"{f['hallucination_rate']:7.3f}"
        )


if __name__ == "__main__":
    main()
