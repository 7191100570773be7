"""The trend charts, as inline SVG drawn from templates: open findings by severity across recent
runs (trend_svg), and the long-term key footprint as lines that should fall (footprint_svg).

This module computes the geometry (where each bar, line, tick and label goes, in points); the
templates reports/templates/_trend_chart.svg.j2 and _footprint_chart.svg.j2 draw it. No plotting
library: two small charts do not justify one (matplotlib cost ~0.6 s to import and ~0.3 s to draw
them on every run).

Every non-zero segment carries its count and is drawn at least MIN_SEGMENT_SHARE of the tallest
bar high, so 2 critical findings among 145 stay readable. Deterministic (no date, no random
ids), text kept as text in the report's font, every id prefixed with the chart's name so two
charts inline in one page never share one. Each severity has a fill and a hatch, so the bars
read in greyscale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2

from keyaudit.paths import TEMPLATES_DIR

# severity → (fill, edge, hatch); the order is the stacking order, worst at the bottom. A hatch
# is "/" (diagonal), "-" (horizontal), "x" (crossed) or "" (none).
STYLE = {
    "critical": ("#000000", "#000000", ""),
    "high": ("#b3261e", "#ffffff", "/"),
    "medium": ("#f2c230", "#6b5200", "-"),
    "low": ("#ffffff", "#1a3e8a", "x"),
    "info": ("#ffffff", "#666666", ""),
}
UNKNOWN_SEVERITY_STYLE = ("#ffffff", "#000000", "x")
# The smallest height a non-zero segment is drawn with, as a share of the tallest bar: enough for
# its printed count (the chart is about 110 pt tall in the PDF).
MIN_SEGMENT_SHARE = 0.1

# The canvas, in points (7 × 2.3 inches), and the plot area inside it.
WIDTH, HEIGHT = 504.0, 165.6
PLOT_LEFT, PLOT_RIGHT = 37.8, 501.5
PLOT_TOP, PLOT_BOTTOM = 23.2, 134.1
BAR_WIDTH = 0.62  # in run positions (1 apart)
MAX_TICKS = 6
FONT = "DejaVu Sans"
SMALL, NORMAL = 6.5, 7.5  # font sizes, pt
CHAR_WIDTH = 0.6  # of the font size: DejaVu Sans's average advance, for boxes and legend gaps


@dataclass(frozen=True)
class TrendPoint:
    label: str  # the run's as_of date (and time or run id when dates repeat); may hold a line break
    counts: dict[str, int]  # open findings by severity
    is_current: bool = False


@dataclass(frozen=True)
class FootprintPoint:
    label: str  # as TrendPoint.label
    counts: dict[str, int | None]  # by FOOTPRINT_STYLE key; None: not known at that run
    is_current: bool = False


# footprint series → (label, colour, dashes, marker); drawn in this order, the total first.
FOOTPRINT_STYLE = {
    "active": ("active IAM-user keys", "#000000", "", "circle"),
    "old": ("older than 365 days", "#b3261e", "4 2", "square"),
    "admin": ("on admin users", "#1a3e8a", "1 2", "triangle"),
}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,  # labels carry run ids
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _draw(template: str, **values: Any) -> str:
    svg = (
        _environment()
        .get_template(template)
        .render(width=WIDTH, height=HEIGHT, font=FONT, small=SMALL, normal=NORMAL, **values)
    )
    return svg.strip()


@dataclass(frozen=True)
class _Frame:
    """The axes of one chart: runs along x (oldest left), counts up y."""

    runs: int
    top: float  # the highest count the y axis shows

    def x(self, position: float) -> float:
        low, high = -0.6, max(self.runs, 4) - 0.4
        return PLOT_LEFT + (position - low) / (high - low) * (PLOT_RIGHT - PLOT_LEFT)

    def y(self, value: float) -> float:
        return PLOT_BOTTOM - value / self.top * (PLOT_BOTTOM - PLOT_TOP)

    def scale(self, value: float) -> float:
        return value / self.top * (PLOT_BOTTOM - PLOT_TOP)


def ticks(top: float) -> list[int]:
    """Whole-number y ticks from 0 up to `top`: steps of 1, 2 or 5 times a power of ten, at most
    MAX_TICKS intervals."""
    step = 1
    while top / step > MAX_TICKS:
        magnitude = 10 ** int(math.log10(step))
        step = {1: 2, 2: 5, 5: 10}[step // magnitude] * magnitude
    return list(range(0, int(top) + 1, step))


def text_width(text: str, size: float) -> float:
    """About how wide `text` is set in the chart's font, in points."""
    return len(text) * size * CHAR_WIDTH


def _axes(frame: _Frame, labels: Sequence[tuple[str, bool]]) -> dict[str, Any]:
    return {
        "left": PLOT_LEFT,
        "right": PLOT_RIGHT,
        "top": PLOT_TOP,
        "bottom": PLOT_BOTTOM,
        "y_ticks": [{"y": frame.y(t), "label": f"{t:,}"} for t in ticks(frame.top)],
        "x_labels": [
            {"x": frame.x(i), "lines": label.split("\n"), "bold": current}
            for i, (label, current) in enumerate(labels)
        ],
    }


def _legend(entries: Sequence[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Legend entries left to right from the top left, each as wide as its label."""
    out, x = [], 0.065 * WIDTH
    for label, style in entries:
        out.append({"x": x, "label": label, "style": style})
        x += 16 + text_width(label, SMALL) + 8
    return out


def trend_svg(points: Sequence[TrendPoint], severities: Sequence[str]) -> str:
    """Stacked bars of open findings per run (oldest left), as an `<svg>` element."""
    key = tuple((p.label, tuple(sorted(p.counts.items())), p.is_current) for p in points)
    return _trend_svg(key, tuple(severities))


@lru_cache(maxsize=32)  # re-rendering a run (or its per-owner slices' twins) draws it once
def _trend_svg(
    key: tuple[tuple[str, tuple[tuple[str, int], ...], bool], ...], severities: tuple[str, ...]
) -> str:
    points = [TrendPoint(label, dict(counts), current) for label, counts, current in key]
    totals = [sum(p.counts.get(s, 0) for s in severities) for p in points]
    floor = max([*totals, 1]) * MIN_SEGMENT_SHARE
    stacked = [0.0] * len(points)
    layers = []  # (severity, style, [(position, value, base, height)])
    for severity in severities:
        values = [p.counts.get(severity, 0) for p in points]
        if not any(values):
            continue
        # A small count (2 critical of 145) is drawn at least `floor` tall, so it is a band that
        # carries its number, not a 1-pixel line; the number printed is exact.
        heights = [max(v, floor) if v else 0 for v in values]
        layers.append((severity, values, list(stacked), heights))
        stacked = [b + h for b, h in zip(stacked, heights, strict=True)]
    frame = _Frame(len(points), max([*stacked, 1.0]) * 1.12)
    half = (frame.x(BAR_WIDTH) - frame.x(0)) / 2
    segments: list[dict[str, Any]] = []
    counts: list[dict[str, Any]] = []
    hatches: list[dict[str, Any]] = []
    entries: list[tuple[str, dict[str, Any]]] = []
    for severity, values, bases, heights in layers:
        fill, edge, hatch = STYLE.get(severity, UNKNOWN_SEVERITY_STYLE)
        style = {"fill": fill, "edge": edge if hatch else "#000000", "hatch": hatch}
        pattern = f"trend-hatch-{len(hatches)}" if hatch else None
        if pattern:
            hatches.append({"id": pattern, **style})
        entries.append((severity, {**style, "fill": f"url(#{pattern})" if pattern else fill}))
        for i, (value, base, height) in enumerate(zip(values, bases, heights, strict=True)):
            if not value:
                continue
            segments.append(
                {
                    "x": frame.x(i) - half,
                    "y": frame.y(base + height),
                    "width": 2 * half,
                    "height": frame.scale(height),
                    "fill": entries[-1][1]["fill"],
                    "edge": style["edge"],
                }
            )
            text = f"{value:,}"
            counts.append(
                {
                    "x": frame.x(i),
                    "y": frame.y(base + height / 2),
                    "text": text,
                    "box": text_width(text, SMALL) + 3,
                }
            )
    return _draw(
        "_trend_chart.svg.j2",
        axes=_axes(frame, [(p.label, p.is_current) for p in points]),
        y_label="open findings",
        hatches=hatches,
        segments=segments,
        counts=counts,
        totals=[
            {"x": frame.x(i), "y": frame.y(top) - 2, "text": f"{total:,}"}
            for i, (total, top) in enumerate(zip(totals, stacked, strict=True))
        ],
        legend=_legend(entries) if any(totals) else [],
    )


def footprint_svg(points: Sequence[FootprintPoint]) -> str:
    """Long-term IAM-user access keys per run (oldest left) as lines, as an `<svg>` element;
    the chart says that fewer is better."""
    key = tuple(
        (p.label, tuple((s, p.counts.get(s)) for s in FOOTPRINT_STYLE), p.is_current)
        for p in points
    )
    return _footprint_svg(key)


@lru_cache(maxsize=32)
def _footprint_svg(key: tuple[tuple[str, tuple[tuple[str, int | None], ...], bool], ...]) -> str:
    points = [FootprintPoint(label, dict(counts), current) for label, counts, current in key]
    known_values = [v for p in points for v in p.counts.values() if v is not None]
    frame = _Frame(len(points), max([*known_values, 1]) * 1.2)
    series: list[dict[str, Any]] = []
    for name, (label, colour, dashes, marker) in FOOTPRINT_STYLE.items():
        values = [p.counts.get(name) for p in points]
        known = [(i, v) for i, v in enumerate(values) if v is not None]
        if not known:
            continue
        # a run whose count is not known breaks the line, rather than drawing it as 0
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
            else:
                runs[-1].append((frame.x(i), frame.y(value)))
        # every count of the total; the other series at this run only (the table has them all)
        shown = known if name == "active" else [(i, v) for i, v in known if points[i].is_current]
        series.append(
            {
                "label": label,
                "colour": colour,
                "dashes": dashes,
                "marker": marker,
                "lines": [line for line in runs if len(line) > 1],
                "points": [(frame.x(i), frame.y(v)) for i, v in known],
                "annotations": [
                    {
                        "x": frame.x(i) if name == "active" else frame.x(i) + 6,
                        "y": frame.y(v) - 4 if name == "active" else frame.y(v) + SMALL * 0.35,
                        "text": f"{v:,}",
                        "anchor": "middle" if name == "active" else "start",
                        "bold": name == "active",
                    }
                    for i, v in shown
                ],
            }
        )
    return _draw(
        "_footprint_chart.svg.j2",
        axes=_axes(frame, [(p.label, p.is_current) for p in points]),
        y_label="active access keys",
        series=series,
        legend=_legend([(s["label"], s) for s in series]),
    )
