"""Inline SVG charts for self-contained HTML pages (the dashboard, rag-eval's report): no scripts,
no assets from elsewhere, readable without a network."""

from __future__ import annotations

import html
from collections.abc import Sequence


def hbars(
    title: str,
    items: Sequence[tuple[str, float]],
    *,
    top: float | None = None,
    fmt: str = "{:.0f}",
    color: str = "#3d6fb6",
    label_width: int = 230,
) -> str:
    """Horizontal bars scaled to ``top`` (default: the largest value); labels are cut at 38
    characters with the full text as a tooltip."""
    if not items:
        return f'<p class="muted">{html.escape(title)}: no data.</p>'
    scale = top or max(v for _, v in items) or 1.0
    height = 24 * len(items) + 28
    parts = [
        f'<svg class="chart" data-chart="{html.escape(title)}" width="{label_width + 380}" height="{height}" '
        f'role="img" aria-label="{html.escape(title)}">',
        f'<text x="0" y="14" font-size="13" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, (label, v) in enumerate(items):
        y = 24 + 24 * i
        w = 300 * max(0.0, min(1.0, v / scale))
        short = label if len(label) <= 38 else label[:37] + "…"
        parts.append(
            f'<text x="0" y="{y + 13}" font-size="12"><title>{html.escape(label)}</title>{html.escape(short)}</text>'
        )
        parts.append(f'<rect x="{label_width}" y="{y}" width="{w:.1f}" height="17" fill="{color}"/>')
        parts.append(
            f'<text x="{label_width + 6 + w:.1f}" y="{y + 13}" font-size="12">{html.escape(fmt.format(v))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
