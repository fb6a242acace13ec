"""``report.json`` (stable field names, for machines and ``rag-eval compare``) and a self-contained
``report.html`` (no external assets: inline SVG charts, a filterable per-question table)."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from rag_service.desk.charts import hbars


@dataclass(frozen=True)
class Gate:
    metric: str
    op: Literal[">=", "<="]
    threshold: float
    value: float | None = None
    passed: bool | None = None


def parse_gates(under: Sequence[str], over: Sequence[str]) -> list[Gate]:
    """``faithfulness=0.9`` for --fail-under (value must be >= 0.9), likewise --fail-over (<=)."""
    gates = []
    for specs, op in ((under, ">="), (over, "<=")):
        for spec in specs:
            name, sep, raw = spec.partition("=")
            try:
                threshold = float(raw)
            except ValueError:
                raise ValueError(f"gate {spec!r} must look like metric=number") from None
            if not sep or not name:
                raise ValueError(f"gate {spec!r} must look like metric=number")
            gates.append(Gate(name.strip(), op, threshold))  # type: ignore[arg-type]
    return gates


def check_gates(gates: Sequence[Gate], metrics: Mapping[str, float | None]) -> list[Gate]:
    """Evaluate each gate; a metric that was not measured fails its gate (and says so)."""
    out = []
    for g in gates:
        value = metrics.get(g.metric)
        passed = value is not None and (value >= g.threshold if g.op == ">=" else value <= g.threshold)
        out.append(Gate(g.metric, g.op, g.threshold, value, passed))
    return out


def write_json(path: Path, report: dict[str, Any]) -> None:
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")


def gates_json(gates: Sequence[Gate]) -> list[dict[str, Any]]:
    return [asdict(g) for g in gates]


# ---------------------------------------------------------------- HTML
_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:1rem 0}
td,th{border:1px solid #ccc;padding:.3rem .5rem;vertical-align:top;font-size:.9rem}th{background:#f3f3f3}
.pass{color:#176b2c;font-weight:bold}.fail{color:#b00020;font-weight:bold}.muted{color:#777}
.answer{max-width:34rem}.chart{display:inline-block;margin:0 2rem 1rem 0}input{padding:.4rem;width:20rem}
"""

_FILTER_JS = """
function filt(){const q=document.getElementById('q').value.toLowerCase();
for(const tr of document.querySelectorAll('#rows tbody tr')){tr.style.display=tr.innerText.toLowerCase().includes(q)?'':'none'}}
"""


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.0f}"
    return html.escape(str(v))


def _bars(title: str, values: Mapping[str, float | None]) -> str:
    """Horizontal bar chart of values in 0..1."""
    return hbars(
        title, [(k, float(v)) for k, v in values.items() if v is not None], top=1.0, fmt="{:.2f}", label_width=120
    )


def _histogram(title: str, values: Sequence[float], bins: int = 10) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    width = (hi - lo) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / width))] += 1
    top = max(counts)
    parts = [
        f'<svg class="chart" width="420" height="190" role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, c in enumerate(counts):
        h = 130 * c / top
        x = 10 + i * 40
        parts.append(f'<rect x="{x}" y="{160 - h:.1f}" width="34" height="{h:.1f}" fill="#6a9f4d"/>')
        parts.append(f'<text x="{x}" y="175" font-size="10">{(lo + i * width) / 1000:.1f}s</text>')
        if c:
            parts.append(f'<text x="{x + 10}" y="{155 - h:.1f}" font-size="10">{c}</text>')
    parts.append("</svg>")
    return "".join(parts)


_VERDICTS = ("right", "declined", "invented", "handoff_recall", "leak_free", "premise_corrected")


def suite_table(rows: Mapping[str, Mapping[str, Any]], links: Mapping[str, str] | None = None) -> str:
    """The suite's table (a row per knowledge base) as HTML; ``links`` point a name at its report."""
    from .kbset import COLUMNS, cell

    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in COLUMNS)
    body = []
    for name, row in rows.items():
        label = html.escape(name)
        if links and name in links:
            label = f'<a href="{html.escape(links[name])}">{label}</a>'
        body.append(f"<tr><td>{label}</td>" + "".join(f"<td>{cell(k, row[k])}</td>" for k, _ in COLUMNS) + "</tr>")
    return f"<table><tr><th>knowledge base</th>{head}</tr>{''.join(body)}</table>"


def write_suite_html(path: Path, result: Mapping[str, Any], links: Mapping[str, str]) -> None:
    doc = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>rag-eval suite</title>
<style>{_CSS}</style></head><body><h1>rag-eval suite</h1>
<p>split {html.escape(str(result.get("split")))} · the worst knowledge base counts, not the average · shares with
hits/n; model calls per question; wall seconds per question</p>{suite_table(result["table"], links)}</body></html>"""
    path.write_text(doc, encoding="utf-8")


def _verdict(metrics: Mapping[str, Any]) -> str:
    marks = []
    for name in _VERDICTS:
        value = metrics.get(name)
        if value is not None:
            good = value == 0 if name == "invented" else value == 1
            marks.append(f'<span class="{"pass" if good else "fail"}">{html.escape(name)}</span>')
    calls = metrics.get("model_calls")
    if calls is not None:
        marks.append(f'<span class="muted">{int(calls)} calls</span>')
    return "<br>".join(marks)


def parity_html(table: Mapping[str, Mapping[str, Any]]) -> str:
    """Every metric per language, the gap (best − worst) and its 95% interval (eval/parity.py)."""
    if not table:
        return ""
    languages = sorted({lang for row in table.values() for lang in row["languages"]})
    head = "".join(f"<th>{html.escape(lang)} (n)</th>" for lang in languages)
    rows = []
    for name, row in table.items():
        cells = "".join(
            f"<td>{_fmt(row['languages'][lang]['value'])} ({row['languages'][lang]['n']})</td>"
            if lang in row["languages"]
            else "<td>–</td>"
            for lang in languages
        )
        interval = row["interval"]
        span = "–" if not interval else f"{interval[0]:.3f} to {interval[1]:.3f}"
        measurable = ' class="fail"' if interval and interval[0] > 0 else ""
        rows.append(
            f"<tr><td>{html.escape(name)}</td>{cells}<td{measurable}>{_fmt(row['gap'])} "
            f"({html.escape(str(row['worse'] or '–'))})</td><td>{span}</td></tr>"
        )
    return (
        "<h2>Language parity</h2><p class='muted'>gap = best language − worst; red: the interval excludes 0 "
        f"(one language measurably worse)</p><table><tr><th>metric</th>{head}<th>gap (worse)</th>"
        f"<th>95% interval</th></tr>{''.join(rows)}</table>"
    )


def write_html(path: Path, report: dict[str, Any]) -> None:
    m = report["metrics"]
    gates = report["gates"]
    verdict = (
        '<p class="muted">No gates set.</p>'
        if not gates
        else (
            '<p class="pass">All gates passed.</p>'
            if all(g["passed"] for g in gates)
            else '<p class="fail">Gates failed.</p>'
        )
    )
    gate_rows = "".join(
        f"<tr><td>{html.escape(g['metric'])} {g['op']} {g['threshold']}</td><td>{_fmt(g['value'])}</td>"
        f'<td class="{"pass" if g["passed"] else "fail"}">{"passed" if g["passed"] else "FAILED"}</td></tr>'
        for g in gates
    )
    metric_rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{_fmt(v)}</td><td>{_fmt(report['counts'].get(k))}</td>"
        f"<td>{'' if not report['intervals'].get(k) else '{:.2f}–{:.2f}'.format(*tuple(report['intervals'][k]))}</td></tr>"
        for k, v in m.items()
    )
    charts = []
    for metric in ("action_accuracy", "key_fact_recall", "hit@5", "faithfulness"):
        for group in ("by_type", "by_language"):
            charts.append(
                _bars(
                    f"{metric} {group.replace('_', ' ')}",
                    {k: g["metrics"].get(metric) for k, g in report[group].items()},
                )
            )
    charts.append(
        _histogram("total latency", [q["total_ms"] for q in report["questions"] if q.get("total_ms") is not None])
    )
    q_rows = []
    for q in report["questions"]:
        cites = "<br>".join(f"[{c['n']}] {html.escape(c['doc_id'])}" for c in q.get("citations") or [])
        claims = "<br>".join(
            f"{'✓' if v.get('supported') else ('?' if 'error' in v else '✗')} {html.escape(v['claim'])}"
            for v in q.get("verdicts") or []
        )
        if q.get("ragas"):
            status = q["ragas"]["status"]
            value = _fmt(q["metrics"].get("ragas_faithfulness")) if status == "ok" else status.upper()
            claims += f"<br><span class='muted' title='{html.escape(q['ragas']['detail'])}'>ragas: {value}</span>"
        q_rows.append(
            f"<tr><td>{html.escape(q['id'])}</td><td>{html.escape(q['type'])}/{html.escape(q['language'])}</td>"
            f"<td>{html.escape(q['question'])}</td><td class='answer'>{html.escape(q.get('answer') or q.get('error') or '')}</td>"
            f"<td>{html.escape(str(q.get('action')))}<br><span class='muted'>{html.escape(str(q.get('reason') or ''))}</span></td>"
            f"<td>{cites}</td><td>{claims}</td><td>{html.escape(', '.join(q.get('gold_doc_ids') or []))}<br>"
            f"<span class='muted'>{html.escape('; '.join(q.get('key_facts') or []))}</span></td>"
            f"<td>{_fmt(q['metrics'].get('key_fact_recall'))}</td><td>{_verdict(q['metrics'])}</td>"
            f"<td>{_fmt(q.get('total_ms'))}</td></tr>"
        )
    run = report["run"]
    doc = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>rag-eval report</title>
<style>{_CSS}</style><script>{_FILTER_JS}</script></head><body>
<h1>rag-eval report</h1>
<p>{html.escape(str(run.get("dataset")))} · {run.get("questions")} questions · target {html.escape(str(run.get("target")))} ·
started {html.escape(str(run.get("started")))} · wall {_fmt(run.get("wall_s"))} s</p>
{"<h2>Knowledge base</h2>" + suite_table({str(run.get("dataset")): report["kb"]}) if report.get("kb") else ""}
<h2>Gates</h2>{verdict}<table><tr><th>gate</th><th>value</th><th>result</th></tr>{gate_rows}</table>
<h2>Metrics</h2><table><tr><th>metric</th><th>value</th><th>n</th><th>95% interval</th></tr>{metric_rows}</table>
{parity_html(report.get("parity") or {})}
<h2>Charts</h2>{"".join(charts)}
<h2>Questions</h2><input id="q" placeholder="filter: id, type, text, action…" oninput="filt()">
<table id="rows"><thead><tr><th>id</th><th>type</th><th>question</th><th>answer</th><th>action</th><th>cited</th><th>claims (judge)</th>
<th>gold</th><th>key facts</th><th>score</th><th>ms</th></tr></thead><tbody>{"".join(q_rows)}</tbody></table>
</body></html>"""
    path.write_text(doc, encoding="utf-8")
