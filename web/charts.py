"""Charts drawn on the server as SVG: read at a glance, on a phone, with no script.

Pure functions: numbers and labels in, markup out. Every text is escaped. Each
chart is an image with a title and a description (its text alternative: the
figures in words), scales to its container (``viewBox`` and width 100%, one
unit a CSS pixel on a 360 px phone), and uses presentation attributes only,
never ``style``, which the CSP forbids. With nothing to draw, a chart is the
``empty`` sentence instead of an empty frame.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 360
FONT = 12
LINE = 15  # height of a line of text
TEXT = "#1f2937"
GRID = "#e5e7eb"
# Dark green then light green: apart in lightness, so apart in grey and for
# colour-blind readers too; the figures are in the titles and tables anyway.
COLOURS = ("#15803d", "#86efac", "#c2410c", "#1d4ed8")


@dataclass(frozen=True, slots=True)
class Series:
    """One kind of count (first scans, repeat scans), a value per label."""

    label: str
    values: Sequence[int]


def _e(text: object) -> str:
    return str(escape(str(text)))


def _ticks(top: int) -> list[int]:
    """Round gridline values from 0 up to at least ``top``: 4 steps or so of 1, 2 or 5 x 10^n."""
    top = max(top, 1)
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return list(range(0, math.ceil(top / step) * step + 1, step))


def _empty(message: str) -> Markup:
    return Markup('<p class="muted">{}</p>').format(message)


def _svg(height: float, chart_id: str, title: str, description: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="100%" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
        f'aria-labelledby="{_e(chart_id)}-t {_e(chart_id)}-d" '
        f'font-family="system-ui, sans-serif" font-size="{FONT}" fill="{TEXT}">'
        f'<title id="{_e(chart_id)}-t">{_e(title)}</title>'
        f'<desc id="{_e(chart_id)}-d">{_e(description)}</desc>'
    )
    # Safe: every text and attribute value above went through _e().
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704


def _legend(series: Sequence[Series], y: float) -> list[str]:
    parts, x = [], 0.0
    for colour, item in zip(COLOURS, series, strict=False):
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="{y:.1f}">{_e(item.label)}</text>')
        x += 24 + len(item.label) * FONT * 0.55
    return parts


def _figures(label: str, series: Sequence[Series], i: int) -> str:
    return f"{label}: " + ", ".join(f"{s.label} {s.values[i]}" for s in series)


def _describe(labels: Sequence[str], series: Sequence[Series]) -> str:
    """The chart in words: the figures of every label that has any."""
    return "; ".join(
        _figures(label, series, i)
        for i, label in enumerate(labels)
        if any(s.values[i] for s in series)
    )


def _fit(text: str, width: float) -> str:
    """``text`` cut to what fits in ``width`` units, with an ellipsis if cut."""
    most = int(width / (FONT * 0.55))
    return text if len(text) <= most else text[: most - 1] + "…"


def column_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    empty: str,
    chart_id: str,
    height: int = 180,
) -> Markup:
    """Stacked columns, one per label (a day), the series stacked from the bottom.

    Labels under the axis are thinned so that they never overlap; every column
    keeps its own tooltip with its figures.
    """
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    if not any(totals):
        return _empty(empty)
    left, right, top, axis = 34.0, 6.0, LINE * 1.5, LINE * 1.5
    plot_w, plot_h = WIDTH - left - right, height - top - axis
    ticks = _ticks(max(totals))
    scale = plot_h / ticks[-1]
    slot = plot_w / len(labels)
    bar = max(slot * 0.8, 0.5)
    body = _legend(series, LINE)
    for tick in ticks:
        y = top + plot_h - tick * scale
        body.append(
            f'<line x1="{left:.1f}" x2="{WIDTH - right:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}"/>'
        )
        body.append(f'<text x="{left - 4:.1f}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    every = max(1, math.ceil(len(labels) * 34 / plot_w))  # a label needs ~34 units
    for i, label in enumerate(labels):
        x = left + i * slot + (slot - bar) / 2
        base = top + plot_h
        body.append(f"<g><title>{_e(_figures(label, series, i))}</title>")
        for colour, item in zip(COLOURS, series, strict=False):
            h = item.values[i] * scale
            if h > 0:
                body.append(
                    f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{colour}"/>'
                )
                base -= h
        body.append("</g>")
        if i % every == 0:
            body.append(
                f'<text x="{left + (i + 0.5) * slot:.1f}" y="{height - 4:.1f}" '
                f'text-anchor="middle">{_e(label)}</text>'
            )
    return _svg(height, chart_id, title, _describe(labels, series), body)


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    empty: str,
    chart_id: str,
) -> Markup:
    """Horizontal bars, one per label (a product, a batch), stacked by series.

    Each label sits on its own line above its bar, so long Vietnamese names
    stay whole on a narrow screen; the total is written after the bar.
    """
    totals = [sum(s.values[i] for s in series) for i in range(len(labels))]
    if not any(totals):
        return _empty(empty)
    row = LINE + 16
    right = 48.0  # room for the total
    height = LINE * 1.5 + row * len(labels)
    scale = (WIDTH - right) / max(totals)
    body = _legend(series, LINE)
    for i, label in enumerate(labels):
        y = LINE * 1.5 + i * row
        body.append(f"<g><title>{_e(_figures(label, series, i))}</title>")
        body.append(f'<text x="0" y="{y + LINE - 2:.1f}">{_e(_fit(label, WIDTH))}</text>')
        x = 0.0
        for colour, item in zip(COLOURS, series, strict=False):
            w = item.values[i] * scale
            if w > 0:
                body.append(
                    f'<rect x="{x:.1f}" y="{y + LINE:.1f}" width="{w:.1f}" height="12" '
                    f'fill="{colour}"/>'
                )
                x += w
        body.append(f'<text x="{x + 4:.1f}" y="{y + LINE + 10:.1f}">{totals[i]}</text></g>')
    return _svg(height, chart_id, title, _describe(labels, series), body)


def line_chart(
    labels: Sequence[str],
    values: Sequence[int],
    *,
    title: str,
    label: str,
    empty: str,
    chart_id: str,
    height: int = 160,
) -> Markup:
    """A line over labels (days), with a dot on each point that is not zero."""
    if not any(values):
        return _empty(empty)
    # Wide margins: the first and last day's labels are centred on the ends.
    left, right, top, axis = 34.0, 18.0, LINE * 1.5, LINE * 1.5
    plot_w, plot_h = WIDTH - left - right, height - top - axis
    ticks = _ticks(max(values))
    scale = plot_h / ticks[-1]
    step = plot_w / max(len(values) - 1, 1)
    series = Series(label, values)
    body = _legend([series], LINE)
    for tick in ticks:
        y = top + plot_h - tick * scale
        body.append(
            f'<line x1="{left:.1f}" x2="{WIDTH - right:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{GRID}"/>'
        )
        body.append(f'<text x="{left - 4:.1f}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    points = [(left + i * step, top + plot_h - v * scale) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    body.append(f'<polyline points="{path}" fill="none" stroke="{COLOURS[0]}" stroke-width="2"/>')
    for (x, y), name, value in zip(points, labels, values, strict=True):
        if value:
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{COLOURS[0]}">'
                f"<title>{_e(name)}: {value}</title></circle>"
            )
    every = max(1, math.ceil(len(labels) * 34 / plot_w))
    for i, name in enumerate(labels):
        if i % every == 0:
            body.append(
                f'<text x="{left + i * step:.1f}" y="{height - 4:.1f}" '
                f'text-anchor="middle">{_e(name)}</text>'
            )
    return _svg(height, chart_id, title, _describe(labels, [series]), body)


__all__ = ["Series", "bar_chart", "column_chart", "line_chart"]
