"""Small server-rendered SVG charts (no JavaScript, no CDN). Pure functions returning markup.

Every chart has a ``<title>`` for screen readers; the pages also show the numbers in a
table next to each chart.
"""

from __future__ import annotations

import math
from html import escape
from typing import Mapping, Sequence

# Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
COLORS = {
    "answered": "#009E73",
    "clarified": "#56B4E9",
    "cannot_answer": "#E69F00",
    "handed_off": "#CC79A7",
    "bar": "#0072B2",
    "muted": "#999999",
}
_FONT = 'font-family="system-ui, sans-serif"'


def _axis(value: float, max_ticks: int = 5) -> tuple[float, float]:
    """A round axis maximum ≥ value and its tick step (1, 2, 5 × 10^n), whole numbers for counts."""
    if value <= 0:
        return 1, 1
    raw = value / max_ticks
    exp = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * exp for m in (1, 2, 5, 10) if m * exp >= raw)
    return step * math.ceil(value / step), step


def _svg(width: int, height: int, title: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="chart">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def stacked_bars(
    title: str,
    columns: Sequence[tuple[str, Mapping[str, int]]],
    series: Sequence[tuple[str, str]],
    width: int = 760,
    height: int = 260,
) -> str:
    """Vertical stacked bars, one per column (e.g. per day), series stacked bottom-up.

    Args:
        title: Accessible title.
        columns: ``(label, {series_key: value})`` in display order.
        series: ``(series_key, legend label)`` from the bottom up.
    """
    left, right, top, bottom = 40, 10, 28, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(v.get(k, 0) for k, _ in series) for _, v in columns]
    ymax, step = _axis(max(totals, default=0))
    parts = []
    ticks = int(round(ymax / step))
    for i in range(ticks + 1):  # grid lines and y labels
        y = top + plot_h - plot_h * i / ticks
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="11" {_FONT}>{step * i:g}</text>')
    n = max(1, len(columns))
    slot = plot_w / n
    bar_w = min(48.0, max(1.0, slot * 0.75))
    every = max(1, math.ceil(n / 12))  # at most ~12 x labels
    for i, (label, values) in enumerate(columns):
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h
        for key, name in series:
            v = values.get(key, 0)
            if v <= 0:
                continue
            h = plot_h * v / ymax
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{COLORS.get(key, COLORS["bar"])}">'
                f"<title>{escape(label)} {escape(name)}: {v}</title></rect>"
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 14}" text-anchor="middle" font-size="11" {_FONT}>'
                f"{escape(label)}</text>"
            )
    lx = left
    for key, name in series:  # legend
        parts.append(f'<rect x="{lx}" y="6" width="12" height="12" fill="{COLORS.get(key, COLORS["bar"])}"/>')
        parts.append(f'<text x="{lx + 16}" y="16" font-size="12" {_FONT}>{escape(name)}</text>')
        lx += 24 + 13 * len(name)
    return _svg(width, height, title, "".join(parts))


def share_bar(title: str, shares: Sequence[tuple[str, str, int]], width: int = 760, height: int = 42) -> str:
    """One 100 % bar split by share: ``(key, label, count)``."""
    total = sum(c for _, _, c in shares)
    parts = []
    x = 0.0
    for key, label, count in shares:
        if total <= 0 or count <= 0:
            continue
        w = width * count / total
        pct = 100 * count / total
        parts.append(
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="40" fill="{COLORS.get(key, COLORS["bar"])}">'
            f"<title>{escape(label)}: {count}（{pct:.1f}%）</title></rect>"
        )
        if w > 60:
            parts.append(f'<text x="{x + 6:.1f}" y="25" font-size="13" fill="#000" {_FONT}>{escape(label)} {pct:.0f}%</text>')
        x += w
    if total <= 0:
        parts.append(f'<rect x="0" y="0" width="{width}" height="40" fill="#eee"/>'
                     f'<text x="8" y="25" font-size="13" {_FONT}>データがありません</text>')
    return _svg(width, height, title, "".join(parts))


def horizontal_bars(title: str, items: Sequence[tuple[str, float]], width: int = 760, bar_h: int = 22,
                    label_w: int = 360, unit: str = "") -> str:
    """Labelled horizontal bars (top FAQs, top groups, waiting-time bins)."""
    if not items:
        return _svg(width, 30, title, f'<text x="0" y="20" font-size="13" {_FONT}>データがありません</text>')
    height = len(items) * (bar_h + 6) + 4
    vmax = max((v for _, v in items), default=0) or 1
    parts = []
    for i, (label, value) in enumerate(items):
        y = i * (bar_h + 6) + 2
        short = label if len(label) <= 28 else label[:27] + "…"
        w = (width - label_w - 60) * value / vmax
        parts.append(f'<text x="{label_w - 6}" y="{y + bar_h * 0.7:.1f}" text-anchor="end" font-size="12" {_FONT}>'
                     f"{escape(short)}</text>")
        parts.append(f'<rect x="{label_w}" y="{y}" width="{max(w, 1):.1f}" height="{bar_h}" fill="{COLORS["bar"]}">'
                     f"<title>{escape(label)}: {value:g}{escape(unit)}</title></rect>")
        parts.append(f'<text x="{label_w + max(w, 1) + 4:.1f}" y="{y + bar_h * 0.7:.1f}" font-size="12" {_FONT}>'
                     f"{value:g}{escape(unit)}</text>")
    return _svg(width, height, title, "".join(parts))
