"""Train the handoff-intent classifier the pipeline ships (``rag_service/answer/intents_model.json``).

One logistic regression per label (human, frustrated, account) on the service's own query
embeddings of the labelled development messages (``eval/datasets/handoff_intents.jsonl``), plus the
dev split of our answer eval set as negatives (ordinary help-center questions, prompt injections:
none of them asks for a person). The
decision threshold of each label is chosen on 5-fold cross-validated predictions of the same dev
set (highest F1 with precision >= 0.85), never on the hold-out set, which measures the result:

    .venv/bin/python scripts/train_intents.py
    .venv/bin/rag-eval intents --dataset eval/datasets/handoff_intents_holdout.jsonl

Needs scikit-learn (a build-time tool, not a run-time dependency: the service only computes a dot
product).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from rag_service.answer.route import LEARNED as LABELS
from rag_service.answer.route import MODEL_PATH
from rag_service.config import load_settings
from rag_service.index.embeddings import build_embedder

ROOT = Path(__file__).resolve().parent.parent


def pick_threshold(y: np.ndarray, p: np.ndarray, min_precision: float) -> float:
    best, best_f1 = 0.5, -1.0
    for t in np.arange(0.3, 0.96, 0.025):
        pred = p >= t
        tp = int((pred & y).sum())
        fp = int((pred & ~y).sum())
        fn = int((~pred & y).sum())
        precision = tp / (tp + fp) if tp + fp else 0.0
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        if precision >= min_precision and f1 > best_f1:
            best, best_f1 = float(t), f1
    return round(best, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, default=ROOT / "eval" / "datasets" / "handoff_intents.jsonl")
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--min-precision", type=float, default=0.85)
    parser.add_argument(
        "--negatives",
        type=Path,
        action="append",
        help="Questions of an answer eval set; those of its dev split that are not handoffs are negatives "
        "(repeatable; default: kb_docs_eval.jsonl and kb_docs_hard.jsonl — policy questions that say "
        '"my contract" or "why do you charge" without being about one account).',
    )
    args = parser.parse_args()
    negatives = args.negatives or [ROOT / "eval" / "datasets" / n for n in ("kb_docs_eval.jsonl", "kb_docs_hard.jsonl")]
    rows = [json.loads(line) for line in args.dataset.read_text(encoding="utf-8").splitlines() if line.strip()]
    for path in negatives:
        for line in path.read_text(encoding="utf-8").splitlines():
            q = json.loads(line)
            if q.get("split") == "dev" and q["type"] != "handoff":
                rows.append({"text": q["question"], **dict.fromkeys(LABELS, False)})
    settings = load_settings()
    embedder = build_embedder(settings)
    x = np.array(embedder.embed_batch([r["text"] for r in rows], kind="query"))
    model: dict[str, object] = {
        "embedder": embedder.name,
        "dim": embedder.dim,
        "trained_on": f"{args.dataset.name} + dev negatives of {', '.join(p.name for p in negatives)} "
        f"({len(rows)} messages)",
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "labels": {},
    }
    labels: dict[str, object] = {}
    for label in LABELS:
        y = np.array([bool(r[label]) for r in rows])
        clf = LogisticRegression(C=4.0, class_weight="balanced", max_iter=5000)
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        p = cross_val_predict(clf, x, y, cv=folds, method="predict_proba")[:, 1]
        threshold = pick_threshold(y, p, args.min_precision)
        clf.fit(x, y)
        labels[label] = {
            "weights": [round(float(w), 6) for w in clf.coef_[0]],
            "bias": round(float(clf.intercept_[0]), 6),
            "threshold": threshold,
        }
        print(f"{label}: {int(y.sum())} positives, threshold {threshold} (5-fold CV on the dev set)")
    model["labels"] = labels
    args.out.write_text(json.dumps(model, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
