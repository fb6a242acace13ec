"""Language parity: every metric of an eval report per language, the gap between the languages and
its 95% interval, and a release gate on it (``--max-gap METRIC=VALUE``).

The gap of a metric is the best language's value minus the worst one's (which is worse depends on
the metric: a higher hallucination share or latency is worse). Its 95% interval is Newcombe's for
shares (``metrics.difference_interval``) and a seeded bootstrap of the questions otherwise (means,
medians of latency). A gate fails when the gap is larger than allowed **and** the interval excludes
zero: one language is served measurably worse, not just by the luck of which questions it got."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .metrics import difference_interval
from .runner import COUNTS, PROPORTIONS

# metrics where a lower value is the better one
LOWER_IS_BETTER = {"false_refusal_rate", "hallucination", "wrong_answer_rate", "invented", "model_calls", "errors"}
LATENCY = ("first_text_ms", "total_ms")  # per question; compared by their medians


def _lower_is_better(name: str) -> bool:
    return name in LOWER_IS_BETTER or name.endswith(("_ms_p50", "_ms_p95")) or "tokens" in name


def _bootstrap(
    a: Sequence[float], b: Sequence[float], stat: Callable[[Sequence[float]], float], resamples: int, seed: int
) -> tuple[float, float] | None:
    """95% percentile interval of stat(b) - stat(a) over resampled questions."""
    if len(a) < 2 or len(b) < 2:
        return None
    rng = random.Random(seed)
    diffs = sorted(stat(rng.choices(b, k=len(b))) - stat(rng.choices(a, k=len(a))) for _ in range(resamples))
    return diffs[int(0.025 * resamples)], diffs[min(resamples - 1, int(0.975 * resamples))]


def _values(rows: Sequence[Mapping[str, Any]], name: str) -> list[float]:
    if name in LATENCY:
        return [float(r[name]) for r in rows if r.get(name) is not None]
    return [float(r["metrics"][name]) for r in rows if (r.get("metrics") or {}).get(name) is not None]


def parity(rows: Sequence[Mapping[str, Any]], *, resamples: int = 2000, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Per metric: each language's value and count, the gap (best − worst, ≥ 0), the worse language,
    and the 95% interval of that gap. Needs two languages; with more, the best and the worst ones."""
    by_language: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_language.setdefault(str(r.get("language")), []).append(r)
    names = sorted({n for r in rows for n in (r.get("metrics") or {}) if n not in COUNTS}) + [
        f"{x}_p50" for x in LATENCY
    ]
    out: dict[str, dict[str, Any]] = {}
    if len(by_language) < 2:
        return out
    for name in names:
        raw = name.removesuffix("_p50") if name.endswith("_ms_p50") else name
        stat: Callable[[Sequence[float]], float] = statistics.median if raw in LATENCY else statistics.fmean
        values = {lang: _values(group, raw) for lang, group in by_language.items()}
        values = {lang: v for lang, v in values.items() if v}
        if len(values) < 2:
            continue
        point = {lang: stat(v) for lang, v in values.items()}
        lower = _lower_is_better(name)
        ranked = sorted(point, key=lambda lang: point[lang], reverse=not lower)  # best first
        best, worst = ranked[0], ranked[-1]
        gap = abs(point[best] - point[worst])
        if name in PROPORTIONS:
            # interval of (best - worst) in the metric's good direction
            d = difference_interval(point[worst], len(values[worst]), point[best], len(values[best]))
            interval = None if d is None else ((-d[1], -d[0]) if lower else d)
        else:
            d = _bootstrap(values[worst], values[best], stat, resamples, seed)
            interval = None if d is None else ((-d[1], -d[0]) if lower else d)
        out[name] = {
            "languages": {lang: {"value": point[lang], "n": len(values[lang])} for lang in sorted(point)},
            "gap": gap,
            "worse": worst if gap > 0 else None,
            "interval": list(interval) if interval else None,
            "lower_is_better": lower,
        }
    return out


@dataclass
class GapGate:
    metric: str
    max_gap: float
    gap: float | None = None
    interval: list[float] | None = None
    worse: str | None = None
    passed: bool = True


def parse_max_gaps(specs: Sequence[str]) -> list[GapGate]:
    gates = []
    for spec in specs:
        name, sep, value = spec.partition("=")
        try:
            limit = float(value)
        except ValueError:
            limit = -1.0
        if not sep or not name or limit < 0:
            raise ValueError(f"--max-gap takes METRIC=VALUE with VALUE ≥ 0, not {spec!r}")
        gates.append(GapGate(name.strip(), limit))
    return gates


def check_max_gaps(gates: Sequence[GapGate], table: Mapping[str, Mapping[str, Any]]) -> list[GapGate]:
    """A gate fails when its metric's gap exceeds the limit and the gap's interval excludes zero; a
    metric the report does not have fails too (a gate that cannot be checked is not passed)."""
    for g in gates:
        row = table.get(g.metric)
        if row is None:
            g.passed = False
            continue
        g.gap, g.interval, g.worse = row["gap"], row["interval"], row["worse"]
        measurable = g.interval is not None and g.interval[0] > 0
        g.passed = not (g.gap > g.max_gap and measurable)
    return list(gates)
