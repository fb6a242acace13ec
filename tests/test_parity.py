"""The language parity gate: per-language metrics, the gap and its 95% interval, and `--max-gap`
failing a release only when one language is measurably worse (not when few questions make a gap
noise), through the `rag-eval parity` command on a written report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from eval.cli import main
from eval.parity import check_max_gaps, parity, parse_max_gaps


def rows(language: str, n: int, right: int, invented: int = 0, ms: float = 1000.0) -> list[dict[str, Any]]:
    return [
        {
            "language": language,
            "total_ms": ms + i,
            "first_text_ms": ms / 2,
            "metrics": {"right": float(i < right), "invented": float(i < invented), "key_fact_recall": i / n},
        }
        for i in range(n)
    ]


def test_a_language_served_measurably_worse_fails_and_noise_does_not() -> None:
    worse = parity(rows("de", 60, right=24) + rows("en", 60, right=48))
    assert worse["right"]["worse"] == "de" and abs(worse["right"]["gap"] - 0.4) < 1e-9
    assert worse["right"]["interval"][0] > 0  # measurable
    assert not check_max_gaps(parse_max_gaps(["right=0.05"]), worse)[0].passed
    assert check_max_gaps(parse_max_gaps(["right=0.5"]), worse)[0].passed  # within the allowed gap

    few = parity(rows("de", 6, right=3) + rows("en", 6, right=4))  # a gap of 0.17 on 6 questions each
    assert few["right"]["gap"] > 0.05 and few["right"]["interval"][0] < 0
    assert check_max_gaps(parse_max_gaps(["right=0.05"]), few)[0].passed


def test_lower_is_better_metrics_and_latency_point_at_the_right_language() -> None:
    table = parity(rows("de", 50, right=40, invented=10, ms=3000) + rows("en", 50, right=40, invented=0, ms=1000))
    assert table["invented"]["worse"] == "de" and table["invented"]["interval"][0] > 0
    assert table["total_ms_p50"]["worse"] == "de" and table["total_ms_p50"]["gap"] > 1900
    assert table["right"]["gap"] == 0 and table["right"]["worse"] is None
    assert set(table["key_fact_recall"]["languages"]) == {"de", "en"}


def test_rag_eval_parity_gates_a_written_report(tmp_path: Path) -> None:
    run = tmp_path / "kb_x"
    run.mkdir()
    questions = rows("de", 60, right=24) + rows("en", 60, right=48)
    (run / "report.json").write_text(json.dumps({"questions": questions}), encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(main, ["parity", str(tmp_path), "--max-gap", "invented=0.05"])
    assert ok.exit_code == 0, ok.output
    failed = runner.invoke(
        main, ["parity", str(tmp_path), "--max-gap", "right=0.05", "--out", str(tmp_path / "p.json")]
    )
    assert failed.exit_code == 1 and "right is 0.400 worse in de" in failed.output
    assert json.loads((tmp_path / "p.json").read_text())["parity"]["kb_x"]["right"]["worse"] == "de"
    missing = runner.invoke(main, ["parity", str(tmp_path), "--max-gap", "faithfulness=0.05"])
    assert missing.exit_code == 1 and "no per-language faithfulness" in missing.output
    bad = runner.invoke(main, ["parity", str(tmp_path), "--max-gap", "right"])
    assert bad.exit_code != 0 and "METRIC=VALUE" in bad.output
