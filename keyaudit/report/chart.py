"""The trend charts, as inline SVG (matplotlib): open findings by severity across recent runs
(trend_svg), and the long-term key footprint as lines that should fall (footprint_svg).

Every non-zero segment carries its count and is drawn at least MIN_SEGMENT_SHARE of the tallest
bar high, so 2 critical findings among 145 stay readable. Deterministic: a fixed hash salt for element ids, no date or creator metadata, text kept as
text in the report's font. Each severity has a fill and a hatch, so the bars read in greyscale.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

# severity → (fill, edge, hatch); the order is the stacking order, worst at the bottom.
STYLE = {
    "critical": ("#000000", "#000000", ""),
    "high": ("#b3261e", "#ffffff", "////"),
    "medium": ("#f2c230", "#6b5200", "---"),
    "low": ("#ffffff", "#1a3e8a", "xx"),
    "info": ("#ffffff", "#666666", ""),
}
_RC: dict[str, Any] = {
    "svg.hashsalt": "keyaudit-trend",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 7.5,
    "hatch.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
# The smallest height a non-zero segment is drawn with, as a share of the tallest bar: enough for
# its printed count (the chart is about 110 pt tall in the PDF).
MIN_SEGMENT_SHARE = 0.1
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)


@dataclass(frozen=True)
class TrendPoint:
    label: str  # the run's as_of date (and time or run id when dates repeat); may hold a line break
    counts: dict[str, int]  # open findings by severity
    is_current: bool = False


def trend_svg(points: Sequence[TrendPoint], severities: Sequence[str]) -> str:
    """Stacked bars of open findings per run (oldest left), as an `<svg>` element."""
    key = tuple((p.label, tuple(sorted(p.counts.items())), p.is_current) for p in points)
    return _trend_svg(key, tuple(severities))


@lru_cache(maxsize=32)  # re-rendering a run (or its per-owner slices' twins) draws it once
def _trend_svg(
    key: tuple[tuple[str, tuple[tuple[str, int], ...], bool], ...], severities: tuple[str, ...]
) -> str:
    # Imported here, not at the top: matplotlib costs ~0.6 s to import, which every keyaudit
    # command that never draws a chart (query, runs, verify) would otherwise pay.
    import matplotlib

    matplotlib.use("Agg")  # no display, no network
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    points = [TrendPoint(label, dict(counts), current) for label, counts, current in key]
    with rc_context(cast(Any, _RC)):
        # Fixed margins rather than a layout engine: as good for one chart shape, and 3x faster.
        figure = Figure(figsize=(7.0, 2.3))
        figure.subplots_adjust(left=0.075, right=0.995, top=0.86, bottom=0.19)
        axes = figure.add_subplot()
        positions = list(range(len(points)))
        totals = [sum(p.counts.get(s, 0) for s in severities) for p in points]
        floor = max([*totals, 1]) * MIN_SEGMENT_SHARE
        bottom = [0.0] * len(points)
        for severity in severities:
            values = [p.counts.get(severity, 0) for p in points]
            if not any(values):
                continue
            # A small count (2 critical of 145) is drawn at least `floor` tall, so it is a band
            # that carries its number, not a 1-pixel line; the number printed is exact.
            heights = [max(v, floor) if v else 0 for v in values]
            fill, edge, hatch = STYLE.get(severity, ("#ffffff", "#000000", "++"))
            axes.bar(
                positions,
                heights,
                bottom=bottom,
                width=0.62,
                color=fill,
                edgecolor=edge if hatch else "#000000",
                hatch=hatch,
                linewidth=0.6,
                label=severity,
            )
            for position, value, height, base in zip(
                positions, values, heights, bottom, strict=True
            ):
                if value:
                    axes.text(
                        position,
                        base + height / 2,
                        f"{value:,}",
                        ha="center",
                        va="center",
                        fontsize=6.5,
                        color="#000000",
                        bbox={"boxstyle": "square,pad=0.12", "fc": "#ffffff", "ec": "none"},
                    )
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        for position, total, top in zip(positions, totals, bottom, strict=True):
            axes.annotate(
                f"{total:,}",
                (position, top),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=6.5,
                fontweight="bold",
            )
        axes.set_xticks(positions, [p.label for p in points])
        for tick, point in zip(axes.get_xticklabels(), points, strict=True):
            if point.is_current:  # this run's label in bold; the table below says so in words
                tick.set_fontweight("bold")
        axes.tick_params(axis="x", labelsize=6.5, length=0)
        axes.set_ylabel("open findings")
        axes.set_xlim(-0.6, max(len(points), 4) - 0.4)
        axes.set_ylim(0, max([*bottom, 1.0]) * 1.12)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", linewidth=0.4, color="#bbbbbb")
        axes.set_axisbelow(True)
        if any(totals):
            figure.legend(
                loc="upper left",
                bbox_to_anchor=(0.065, 1.0),
                ncols=5,
                frameon=False,
                fontsize=6.5,
            )
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = _PROLOGUE.sub("", buffer.getvalue(), count=1)
    return _METADATA.sub("", svg, count=1).strip()


# footprint series → (label, colour, line style, marker); drawn in this order, the total first.
FOOTPRINT_STYLE = {
    "active": ("active IAM-user keys", "#000000", "-", "o"),
    "old": ("older than 365 days", "#b3261e", "--", "s"),
    "admin": ("on admin users", "#1a3e8a", ":", "^"),
}


_ID_REFERENCE = re.compile(r'(\bid="|url\(#|href="#)([^"()]+)')


@dataclass(frozen=True)
class FootprintPoint:
    label: str  # as TrendPoint.label
    counts: dict[str, int | None]  # by FOOTPRINT_STYLE key; None: not known at that run
    is_current: bool = False


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
    import matplotlib  # imported here for the reason _trend_svg gives

    matplotlib.use("Agg")
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    points = [FootprintPoint(label, dict(counts), current) for label, counts, current in key]
    with rc_context(cast(Any, _RC)):
        figure = Figure(figsize=(7.0, 2.3))
        figure.subplots_adjust(left=0.075, right=0.995, top=0.86, bottom=0.19)
        axes = figure.add_subplot()
        positions = list(range(len(points)))
        highest = 1.0
        for series, (label, colour, style, marker) in FOOTPRINT_STYLE.items():
            values = [p.counts.get(series) for p in points]
            known = [(x, v) for x, v in zip(positions, values, strict=True) if v is not None]
            if not known:
                continue
            # NaN breaks the line where a run's count is not known, rather than drawing it as 0
            axes.plot(
                positions,
                [float("nan") if v is None else v for v in values],
                linestyle=style,
                color=colour,
                marker=marker,
                markersize=3.5,
                linewidth=1.2,
                label=label,
            )
            highest = max(highest, *(v for _, v in known))
            # every count of the total; the other series at this run only (the table has them all)
            shown = (
                known if series == "active" else [xv for xv in known if points[xv[0]].is_current]
            )
            for x, v in shown:
                axes.annotate(
                    f"{v:,}",
                    (x, v),
                    xytext=(0, 4) if series == "active" else (6, 0),
                    textcoords="offset points",
                    ha="center" if series == "active" else "left",
                    va="bottom" if series == "active" else "center",
                    fontsize=6.5,
                    fontweight="bold" if series == "active" else "normal",
                    color=colour,
                )
        axes.set_xticks(positions, [p.label for p in points])
        for tick, point in zip(axes.get_xticklabels(), points, strict=True):
            if point.is_current:
                tick.set_fontweight("bold")
        axes.tick_params(axis="x", labelsize=6.5, length=0)
        axes.set_ylabel("active access keys")
        axes.set_xlim(-0.6, max(len(points), 4) - 0.4)
        axes.set_ylim(0, highest * 1.2)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", linewidth=0.4, color="#bbbbbb")
        axes.set_axisbelow(True)
        if axes.lines:
            figure.legend(
                loc="upper left",
                bbox_to_anchor=(0.065, 1.0),
                ncols=3,
                frameon=False,
                fontsize=6.5,
            )
        # The direction of good, in the chart itself: a reader of the PDF alone sees it.
        figure.text(
            0.995,
            0.985,
            "↓ fewer is better",
            ha="right",
            va="top",
            fontsize=7,
            fontweight="bold",
        )
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = _PROLOGUE.sub("", buffer.getvalue(), count=1)
    svg = _METADATA.sub("", svg, count=1).strip()
    # matplotlib numbers ids per figure (figure_1, axes_1, clip paths): prefixed, so this chart and
    # the findings trend inline in one page never share an id
    return _ID_REFERENCE.sub(lambda m: f"{m.group(1)}footprint-{m.group(2)}", svg)
