"""Server-side charts for the review (matplotlib, Agg backend): SVG for the HTML page, PNG for
the PDF. Imported only by ``annexa report``; every chart reads the ``Review`` only."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

from checks.api import SEVERITIES
from collector.review.build import Review

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["CHARTS", "render_chart"]

# State colours paired with the state's name in every legend (never colour alone).
_STATE_COLOURS = {
    "passing": "#2e7d32",
    "attested": "#66bb6a",
    "accepted": "#8d6e63",
    "failing": "#c62828",
    "error": "#6a1b9a",
    "stale": "#ef6c00",
    "no_evidence": "#9e9e9e",
    "manual": "#90a4ae",
    "not_applicable": "#cfd8dc",  # excluded by the SoA from some time in the period on
}
_BAND_ORDER = ("0-7d", "8-30d", "31-90d", ">90d")


def _figure() -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.0), dpi=110)
    fig.set_layout_engine("constrained")
    return fig


def _labels(review: Review) -> list[str]:
    fmt = "%Y-%m" if review.unit == "month" else "%Y-%m-%d"
    return [a.strftime(fmt) for a, _ in review.slices]


def passing_trend(review: Review) -> Figure:
    """Mean passing share of the applicable controls per slice, with the previous period's."""
    fig = _figure()
    ax = fig.add_subplot()
    shares = [100 * (review.mean_share(index=i) or 0.0) for i in range(len(review.slices))]
    ax.bar(_labels(review), shares, color="#1565c0", label="passing share per slice")
    previous = review.mean_share("previous")
    if previous is not None:
        ax.axhline(100 * previous, color="#444", linestyle="--", label="previous period mean")
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of time passing")
    ax.set_title("Controls passing over the period")
    ax.legend(loc="lower right", fontsize="small")
    return fig


def states_trend(review: Review) -> Figure:
    """Applicable controls by state at the end of each slice (stacked)."""
    fig = _figure()
    ax = fig.add_subplot()
    labels = _labels(review)
    counts = [review.states_at_end(i) for i in range(len(review.slices))]
    bottom = [0] * len(labels)
    for state, colour in _STATE_COLOURS.items():
        heights = [c.get(state, 0) for c in counts]
        if any(heights):
            ax.bar(labels, heights, bottom=bottom, color=colour, label=state)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    ax.set_ylabel("controls")
    ax.set_title("Control states at the end of each slice")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    return fig


def findings_by_age(review: Review) -> Figure:
    """Open failing findings (not accepted) by age band, one bar group per severity."""
    fig = _figure()
    ax = fig.add_subplot()
    table = review.findings_by_band()
    severities = [s for s in SEVERITIES if s in table] + sorted(set(table) - set(SEVERITIES))
    severities = severities or ["none"]
    width = 0.8 / len(severities)
    for i, severity in enumerate(severities):
        values = [table.get(severity, {}).get(band, 0) for band in _BAND_ORDER]
        positions = [x + i * width for x in range(len(_BAND_ORDER))]
        ax.bar(positions, values, width=width, label=severity)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(_BAND_ORDER))], _BAND_ORDER)
    ax.set_ylabel("open findings")
    ax.set_title("Open failing findings by age")
    if table:
        ax.legend(title="severity", fontsize="small")
    return fig


CHARTS: dict[str, Any] = {
    "passing": passing_trend,
    "states": states_trend,
    "findings": findings_by_age,
}


def render_chart(name: str, review: Review, fmt: str) -> bytes:
    """Chart ``name`` as ``svg`` or ``png`` bytes."""
    fig = CHARTS[name](review)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
    return buffer.getvalue()
