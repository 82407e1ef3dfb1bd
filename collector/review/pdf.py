"""The review as a PDF (fpdf2: pure Python, no system libraries), charts as PNG images."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any

from collector.report import iso
from collector.review.build import Review
from collector.review.render import (
    METHOD,
    control_rows,
    expiring_rows,
    finding_rows,
    mover_rows,
    recurring_rows,
    summary,
)

__all__ = ["render_pdf"]

_MAX_ROWS = 200  # per listing; the CSV/XLSX/JSON outputs hold every row


def _latin1(value: Any) -> str:
    """The core PDF fonts cover Latin-1 only: anything else becomes '?'."""
    text = "-" if value is None else str(value)
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(review: Review, chart_png: Callable[[str], bytes]) -> bytes:
    """The management review input as PDF bytes; ``chart_png(name)`` draws one chart."""
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.set_creation_date(review.now)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    _line(pdf, 9, "Management review input: ISMS monitoring and measurement")
    pdf.set_font("Helvetica", size=10)
    _line(
        pdf,
        6,
        _latin1(f"Period {iso(review.start)} to {iso(review.end)}; generated {iso(review.now)}."),
    )
    if review.clipped:
        _line(
            pdf,
            6,
            _latin1(
                f"The requested end {iso(review.requested_end)} is after the time this "
                f"report was made; time after {iso(review.end)} is not counted."
            ),
        )
    overall = summary(review)
    _heading(pdf, "Summary")
    _table(pdf, [{"measure": k, "value": v} for k, v in overall.items()], (80, 180))
    _heading(pdf, "Trends")
    for name in ("passing", "states"):
        pdf.image(io.BytesIO(chart_png(name)), w=200)
    improved, regressed = review.movers()
    _heading(pdf, "Improved most")
    _table(pdf, mover_rows(improved))
    _heading(pdf, "Regressed most")
    _table(pdf, mover_rows(regressed))
    _heading(pdf, "Controls")
    columns = (
        "control",
        "title",
        "owner",
        "state_at_end",
        "passing_pct",
        "change_pts",
        "went_failing",
        "mean_restore_h",
        "worst_restore_h",
        "accepted_days",
    )
    rows = [{k: r[k] for k in columns} for r in control_rows(review) if r["applicable"]]
    _table(pdf, rows, (16, 70, 30, 24, 20, 20, 20, 24, 24, 20))
    _heading(pdf, "Open failing findings")
    pdf.image(io.BytesIO(chart_png("findings")), w=200)
    _table(pdf, finding_rows(review))
    _heading(pdf, "Recurring failures")
    _table(pdf, recurring_rows(review))
    _heading(pdf, f"Manual evidence expiring within {review.expiring_within.days} days")
    _table(pdf, expiring_rows(review))
    _heading(pdf, "Method")
    for part, text in METHOD:
        pdf.set_font("Helvetica", "B", 10)
        _line(pdf, 6, _latin1(part))
        pdf.set_font("Helvetica", size=10)
        _line(pdf, 5, _latin1(text.replace("`", "")))
    return bytes(pdf.output())


def _line(pdf: Any, height: float, text: str) -> None:
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def _heading(pdf: Any, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", 13)
    _line(pdf, 8, _latin1(text))
    pdf.set_font("Helvetica", size=8)


def _table(pdf: Any, rows: Sequence[dict[str, Any]], widths: Sequence[int] | None = None) -> None:
    pdf.set_font("Helvetica", size=8)
    if not rows:
        _line(pdf, 5, "None.")
        return
    header = list(rows[0])
    with pdf.table(col_widths=widths, first_row_as_headings=True, line_height=4.5) as table:
        table.row([_latin1(h) for h in header])
        for row in rows[:_MAX_ROWS]:
            table.row([_latin1(row[h]) for h in header])
    if len(rows) > _MAX_ROWS:
        _line(pdf, 5, f"... and {len(rows) - _MAX_ROWS} more (see the CSV/XLSX/JSON).")
