"""The support lead's dashboard: one self-contained HTML page (inline SVG charts, no scripts or
assets from elsewhere: the service runs offline) over the analytics of a date range."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from ..desk.charts import hbars as bars

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222;max-width:1200px}
h1{margin-bottom:.2rem}h2{margin-top:1.8rem;border-bottom:1px solid #ddd}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:9rem}
.card b{display:block;font-size:1.5rem}.muted{color:#777}table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.3rem .5rem;font-size:.9rem;vertical-align:top}th{background:#f4f4f4}
svg{margin:.4rem 1.5rem .8rem 0}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:1.5rem}.range,.signout{margin:0}
"""
_COLORS = {"answer": "#3d8b4a", "refuse": "#d9a21b", "handoff": "#c0392b"}


def _e(value: object) -> str:
    return html.escape(str(value))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def stacked_days(days: Sequence[dict[str, Any]]) -> str:
    """Questions per day, stacked by outcome."""
    if not days:
        return ""
    top = max((d["total"] for d in days), default=0) or 1
    width = max(320, 18 * len(days) + 60)
    parts = [
        f'<svg class="chart" data-chart="volume per day" width="{width}" height="200" role="img" aria-label="volume per day">',
        '<text x="0" y="14" font-size="13" font-weight="bold">Questions per day</text>',
    ]
    for i, d in enumerate(days):
        x, base = 40 + 18 * i, 170.0
        for action in ("answer", "refuse", "handoff"):
            h = 140 * d[action] / top
            if h:
                parts.append(
                    f'<rect x="{x}" y="{base - h:.1f}" width="14" height="{h:.1f}" fill="{_COLORS[action]}">'
                    f"<title>{_e(d['day'])}: {d[action]} {action}</title></rect>"
                )
                base -= h
        if i % max(1, len(days) // 8) == 0:
            parts.append(f'<text x="{x}" y="188" font-size="9">{_e(d["day"][5:])}</text>')
    parts.append(f'<text x="0" y="34" font-size="10">{top}</text><text x="0" y="170" font-size="10">0</text>')
    legend = "".join(
        f'<rect x="{120 + 90 * k}" y="4" width="10" height="10" fill="{c}"/><text x="{134 + 90 * k}" y="13" '
        f'font-size="11">{a}</text>'
        for k, (a, c) in enumerate(_COLORS.items())
    )
    parts.append(f'<g transform="translate({width - 420},0)">{legend}</g></svg>')
    return "".join(parts)


def _clusters_table(clusters: Sequence[dict[str, Any]], empty: str) -> str:
    if not clusters:
        return f'<p class="muted">{_e(empty)}</p>'
    rows = "".join(
        f"<tr><td>{c['count']}</td><td>{_e(c['label'])}</td><td>{'<br>'.join(_e(x) for x in c['examples'])}</td></tr>"
        for c in clusters
    )
    return f"<table><tr><th>questions</th><th>topic (closest question)</th><th>examples</th></tr>{rows}</table>"


def _alerts(alerts: Sequence[dict[str, Any]]) -> str:
    if not alerts:
        return "<h2>Alerts</h2><p>No spikes in the last 24 hours.</p>"
    rows = "".join(
        f"<tr><td>{_e(str(x['created_at'])[:16])}</td><td>{'questions' if x['kind'] == 'volume' else 'upset questions'}"
        f"</td><td>{_e(x['title'])}</td><td>{x['count']}</td><td>{x['usual']:.1f}</td>"
        f"<td>{'; '.join(_e(q) for q in x['examples'])}</td></tr>"
        for x in alerts
    )
    return (
        '<h2>Alerts</h2><table class="alerts"><tr><th>raised</th><th>spike of</th><th>topic</th>'
        f"<th>last hour</th><th>usual per hour</th><th>examples</th></tr>{rows}</table>"
    )


def _suggestions(found: Sequence[dict[str, Any]]) -> str:
    head = "<h2>Suggested article changes</h2>"
    if not found:
        return head + "<p>No suggestions: no edited drafts or repeatedly unanswered questions in 30 days.</p>"
    items = []
    for x in found[:20]:
        source = "an agent's edited draft" if x["kind"] == "edited_draft" else f"asked {x['asked']} times, unanswered"
        target = f"change <code>{_e(x['target_doc'])}</code>" if x["target_doc"] else "a new article"
        wording = f"<p><b>Agent's wording:</b> {_e(x['wording'])}</p>" if x["wording"] else ""
        items.append(
            f'<details class="suggestion"><summary><b>{_e(x["title"])}</b> — {source}, {target}</summary>'
            f"<p><b>Missing:</b> {_e(x['missing'])}</p>{wording}"
            f"<p><b>Asked as:</b> {'; '.join(_e(q) for q in x['questions'])}</p>"
            f"<pre>{_e(x['proposed'])}</pre>"
            f'<p class="muted">Accept (writes and indexes the article): <code>POST /v1/suggestions/{_e(x["id"])}/accept'
            f"</code> with an admin key; reject: <code>POST /v1/suggestions/{_e(x['id'])}/reject</code>.</p></details>"
        )
    return head + "".join(items)


def render(a: dict[str, Any]) -> str:
    rates, fb, dr, lat = a["rates"], a["feedback"], a["drafts"], a["latency_ms"]
    cards = [
        ("questions", a["questions"]),
        ("answered", _pct(rates["answer"])),
        ("refused", _pct(rates["refuse"])),
        ("handed off", _pct(rates["handoff"])),
        ("positive feedback", _pct(fb["up_ratio"])),
        ("drafts sent as is", _pct(dr["acceptance"])),
        ("latency p50", "—" if lat["p50"] is None else f"{lat['p50'] / 1000:.1f} s"),
        ("latency p95", "—" if lat["p95"] is None else f"{lat['p95'] / 1000:.1f} s"),
    ]
    card_html = "".join(f'<div class="card"><b>{_e(v)}</b>{_e(k)}</div>' for k, v in cards)
    gaps = a["knowledge_gaps"]
    never = ", ".join(_e(d) for d in a["never_cited"]) or "—"
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>rag_service dashboard</title>
<style>{_CSS}</style></head><body>
<header><h1>Support dashboard</h1>
<form method="get" class="range" aria-label="period"><label>From <input type="date" name="from" value="{_e(a["from"])}"></label>
<label>to <input type="date" name="to" value="{_e(a["to"])}"></label> <button type="submit">Show</button>
· <a href="?from={_e(a["from"])}&amp;to={_e(a["to"])}&amp;format=json">JSON</a></form>
<form method="post" action="/logout" class="signout"><button type="submit">Sign out</button></form></header>
<div class="cards">{card_html}</div>
{_alerts(a.get("alerts", []))}
<h2>Volume and outcomes</h2>
{stacked_days(a["volume_per_day"])}
{bars("Outcome rates (%)", [(k, 100 * v) for k, v in rates.items() if v is not None], fmt="{:.0f} %")}
{bars("Handoff reasons", [(k, float(v)) for k, v in a["handoff_reasons"].items()], color="#c0392b")}
<h2>Knowledge-base gaps: the articles to write next</h2>
{bars("Unanswered questions by topic", [(c["label"], float(c["count"])) for c in gaps], color="#d9a21b")}
{_clusters_table(gaps, "No unanswered questions in this period.")}
{_suggestions(a.get("suggestions", []))}
<h2>Top question topics</h2>
{bars("Questions by topic", [(c["label"], float(c["count"])) for c in a["topics"]])}
{_clusters_table(a["topics"], "No questions in this period.")}
<h2>Sources</h2>
{bars("Most cited documents", [(d["doc_id"], float(d["count"])) for d in a["most_cited"]], color="#3d8b4a")}
<p><b>Never cited:</b> {never}</p>
<h2>Feedback and drafts</h2>
{bars("Feedback", [("up", float(fb["up"])), ("down", float(fb["down"]))])}
{bars("Agent drafts", [(k, float(dr[k])) for k in ("sent", "edited", "discarded", "pending")], color="#7a5ea8")}
<p><b>Recent negative comments:</b> {"; ".join(_e(c) for c in fb["recent_down_comments"]) or "—"}</p>
</body></html>"""
