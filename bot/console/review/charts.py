"""Small server-rendered SVG charts (no JavaScript, no CDN), from the templates in ``templates/charts/``.

Pure functions returning markup. Every chart has a ``<title>`` for screen readers; the
pages also show the numbers in a table next to each chart. Labels (an FAQ's question, a
group's label) are escaped like every other template value.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from markupsafe import Markup

from bot.console.render import fragment, join

# Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
COLORS = {
    "answered": "#009E73",
    "clarified": "#56B4E9",
    "cannot_answer": "#E69F00",
    "handed_off": "#CC79A7",
    "bar": "#0072B2",
    "muted": "#999999",
}
_END = Markup(' text-anchor="end"')
_MIDDLE = Markup(' text-anchor="middle"')
_NONE = Markup("")


def _axis(value: float, max_ticks: int = 5) -> tuple[float, float]:
    """A round axis maximum ≥ value and its tick step (1, 2, 5 × 10^n), whole numbers for counts."""
    if value <= 0:
        return 1, 1
    raw = value / max_ticks
    exp = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * exp for m in (1, 2, 5, 10) if m * exp >= raw)
    return step * math.ceil(value / step), step


def _svg(width: int, height: int, title: str, parts: Sequence[Markup]) -> Markup:
    return fragment("charts/svg.html", width=width, height=height, title=title, body=join(parts))


def _text(x: str, y: str, size: int, text: str, anchor: Markup = _NONE, fill: Markup = _NONE) -> Markup:
    return fragment("charts/text.html", x=x, y=y, anchor=anchor, size=size, fill=fill, text=text)


def _bar(x: str, y: str, width: str, height: str, key: str, title: str) -> Markup:
    return fragment("charts/bar.html", x=x, y=y, width=width, height=height, color=COLORS.get(key, COLORS["bar"]),
                    title=title)


def stacked_bars(
    title: str,
    columns: Sequence[tuple[str, Mapping[str, int]]],
    series: Sequence[tuple[str, str]],
    width: int = 760,
    height: int = 260,
) -> Markup:
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
        parts.append(fragment("charts/grid_line.html", x1=left, x2=width - right, y=f"{y:.1f}"))
        parts.append(_text(str(left - 4), f"{y + 4:.1f}", 11, f"{step * i:g}", _END))
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
            parts.append(_bar(f"{x:.1f}", f"{y:.1f}", f"{bar_w:.1f}", f"{h:.1f}", key, f"{label} {name}: {v}"))
        if i % every == 0:
            parts.append(_text(f"{x + bar_w / 2:.1f}", str(height - bottom + 14), 11, label, _MIDDLE))
    lx = left
    for key, name in series:  # legend
        parts.append(fragment("charts/swatch.html", x=lx, y=6, width=12, height=12, color=COLORS.get(key, COLORS["bar"])))
        parts.append(_text(str(lx + 16), "16", 12, name))
        lx += 24 + 13 * len(name)
    return _svg(width, height, title, parts)


def share_bar(title: str, shares: Sequence[tuple[str, str, int]], width: int = 760, height: int = 42) -> Markup:
    """One 100 % bar split by share: ``(key, label, count)``."""
    total = sum(c for _, _, c in shares)
    parts = []
    x = 0.0
    for key, label, count in shares:
        if total <= 0 or count <= 0:
            continue
        w = width * count / total
        pct = 100 * count / total
        parts.append(_bar(f"{x:.1f}", "0", f"{w:.1f}", "40", key, f"{label}: {count}（{pct:.1f}%）"))
        if w > 60:
            parts.append(_text(f"{x + 6:.1f}", "25", 13, f"{label} {pct:.0f}%", fill=Markup(' fill="#000"')))
        x += w
    if total <= 0:
        parts.append(fragment("charts/swatch.html", x=0, y=0, width=width, height=40, color="#eee"))
        parts.append(_text("8", "25", 13, "データがありません"))
    return _svg(width, height, title, parts)


def horizontal_bars(title: str, items: Sequence[tuple[str, float]], width: int = 760, bar_h: int = 22,
                    label_w: int = 360, unit: str = "") -> Markup:
    """Labelled horizontal bars (top FAQs, top groups, waiting-time bins)."""
    if not items:
        return _svg(width, 30, title, [_text("0", "20", 13, "データがありません")])
    height = len(items) * (bar_h + 6) + 4
    vmax = max((v for _, v in items), default=0) or 1
    parts = []
    for i, (label, value) in enumerate(items):
        y = i * (bar_h + 6) + 2
        short = label if len(label) <= 28 else label[:27] + "…"
        w = (width - label_w - 60) * value / vmax
        parts.append(_text(str(label_w - 6), f"{y + bar_h * 0.7:.1f}", 12, short, _END))
        parts.append(_bar(str(label_w), str(y), f"{max(w, 1):.1f}", str(bar_h), "bar", f"{label}: {value:g}{unit}"))
        parts.append(_text(f"{label_w + max(w, 1) + 4:.1f}", f"{y + bar_h * 0.7:.1f}", 12, f"{value:g}{unit}"))
    return _svg(width, height, title, parts)
