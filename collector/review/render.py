"""The review as data (JSON), tables (CSV, XLSX) and a readable HTML page with its method."""

from __future__ import annotations

import json
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from collector.export.sheets import csv_bytes, write_xlsx
from collector.measures import hours, measure_fields
from collector.report import iso
from collector.review.build import ControlReview, Review

__all__ = [
    "METHOD",
    "control_rows",
    "finding_rows",
    "render_csv",
    "render_html",
    "render_json",
    "render_xlsx",
    "summary",
]

METHOD = (
    (
        "What is measured",
        "For every Annex A control the Statement of Applicability does not exclude: the share of "
        "the period it had fresh passing evidence (passing, or attested by manual evidence inside "
        "its validity); how often it went failing and how long it took to restore; time without "
        "conclusive fresh evidence (stale, error, no evidence), kept apart from failure; time its "
        "failures were accepted by an approved exception; open failing findings by age and "
        "severity; findings that failed again after a fix; manual evidence about to expire.",
    ),
    (
        "How",
        "Each control's state at every instant is the one `annexa status --at` gives for that "
        "instant, derived from the sealed evidence records, the exceptions and the manual evidence "
        "in the store. Time to restore runs from entering failing to the next passing or attested "
        "state, for failing episodes that began inside the period. A finding is aged from the "
        "first record showing it failing without a fix in between; for findings already failing "
        "when the period began the age is a lower bound. A control counts only while it was "
        "applicable: the Statement of Applicability given to this report decides, corrected by "
        "the state changes recorded in the store (the daemon records when the SoA it runs with "
        "excludes a control, or applies it again); time excluded is shown apart and weighs in "
        "no other measure, and an exclusion ends a failing episode untimed.",
    ),
    (
        "When",
        "Over the period stated on this report, clipped at the time the report was made; the "
        "previous period of equal length serves as the comparison, and the period is also cut "
        "into calendar months (or weeks) in UTC.",
    ),
    (
        "From which evidence",
        "The automated checks mapped to each control (see `annexa controls`), their evidence "
        "records (verifiable with `annexa verify`), manual evidence uploads and risk exceptions.",
    ),
)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def summary(review: Review) -> dict[str, Any]:
    """Overall measures: means, counts and totals over the applicable controls."""
    applicable = review.applicable
    restores = [t for c in applicable for t in c.current.restore_times]
    return {
        "controls_applicable": len(applicable),
        "mean_passing_pct": _pct(review.mean_share()),
        "previous_mean_passing_pct": _pct(review.mean_share("previous")),
        "states_at_end": dict(sorted(review.states_at_end().items())),
        "went_failing": sum(c.current.went_failing for c in applicable),
        "mean_restore_h": hours(sum(restores, timedelta(0)) / len(restores) if restores else None),
        "worst_restore_h": hours(max(restores, default=None)),
        "unhealthy_control_h": hours(sum((c.current.unhealthy for c in applicable), timedelta(0))),
        "accepted_control_days": round(
            sum((c.current.accepted for c in applicable), timedelta(0)) / timedelta(days=1), 2
        ),
        "open_findings": sum(1 for f in review.open_findings if f.accepted_by is None),
        "accepted_findings": sum(1 for f in review.open_findings if f.accepted_by is not None),
        "recurring_findings": len(review.recurring),
        "manual_expiring": len(review.expiring),
    }


def _slice_label(review: Review, start: datetime) -> str:
    return start.strftime("%Y-%m" if review.unit == "month" else "%Y-%m-%d")


def control_rows(review: Review) -> list[dict[str, Any]]:
    """One row per control, the trend slices as ``passing_pct <slice>`` columns."""
    rows = []
    for c in review.controls:
        row: dict[str, Any] = {
            "control": c.control.id,
            "title": c.control.title,
            "owner": c.owner,
            "applicable": c.applicable,
            **measure_fields(c.current),
            "previous_passing_pct": _pct(c.previous.passing_share),
            "change_pts": _pct(c.change),
        }
        row["failing_since"] = iso(row["failing_since"])
        for (start, _), sliced in zip(review.slices, c.trend, strict=True):
            row[f"passing_pct {_slice_label(review, start)}"] = _pct(sliced.passing_share)
        rows.append(row)
    return rows


def finding_rows(review: Review) -> list[dict[str, Any]]:
    """Open failing findings at the period's end, oldest first."""
    return [
        {
            "check": f.age.check_id,
            "target": f.age.target_key,
            "resource": f.age.resource,
            "severity": f.severity,
            "failing_since": iso(f.age.failing_since),
            "since_before_period": f.age.since_before,
            "age_band": f.band,
            "accepted_by_exception": f.accepted_by,
        }
        for f in sorted(review.open_findings, key=lambda f: f.age.failing_since)
    ]


def recurring_rows(review: Review) -> list[dict[str, Any]]:
    """Findings that failed again after a fix inside the period."""
    return [
        {
            "check": r.check_id,
            "target": r.target_key,
            "resource": r.resource,
            "refailures": r.refailures,
            "last_failed_at": iso(r.last_failed_at),
        }
        for r in review.recurring
    ]


def expiring_rows(review: Review) -> list[dict[str, Any]]:
    """Manual evidence that expires within the window after now."""
    return [
        {
            "control": i.control_id,
            "file": i.file_name,
            "valid_until": iso(i.valid_until),
            "uploaded_by": i.uploaded_by,
        }
        for i in review.expiring
    ]


def _period(review: Review) -> dict[str, Any]:
    return {
        "from": iso(review.start),
        "to": iso(review.end),
        "requested_to": iso(review.requested_end),
        "clipped_at_now": review.clipped,
        "generated_at": iso(review.now),
        "trend_unit": review.unit,
        "previous_from": iso(review.start - (review.end - review.start)),
    }


def render_json(review: Review) -> bytes:
    """The whole review as one JSON document."""
    document = {
        "period": _period(review),
        "method": dict(METHOD),
        "summary": summary(review),
        "controls": control_rows(review),
        "open_findings": finding_rows(review),
        "recurring_findings": recurring_rows(review),
        "manual_expiring": expiring_rows(review),
    }
    return (json.dumps(document, indent=2) + "\n").encode()


def render_csv(review: Review) -> bytes:
    """The per-control measures as CSV (RFC 4180: CRLF line ends, formula-safe text)."""
    rows = control_rows(review)
    return csv_bytes(list(rows[0]), rows)


def render_xlsx(review: Review) -> bytes:
    """A workbook: Summary, Controls, Open findings, Recurring, Expiring, Method."""
    summary_rows = [
        {"measure": k, "value": json.dumps(v) if isinstance(v, dict) else v}
        for k, v in {**_period(review), **summary(review)}.items()
    ]
    sheets = [
        ("Controls", control_rows(review)),
        ("Open findings", finding_rows(review)),
        ("Recurring", recurring_rows(review)),
        ("Expiring manual evidence", expiring_rows(review)),
        ("Method", [{"part": k, "text": v} for k, v in METHOD]),
    ]
    with tempfile.TemporaryDirectory(prefix="annexa-review-") as folder:
        path = Path(folder) / "review.xlsx"
        write_xlsx(
            path,
            "Summary",
            ("measure", "value"),
            summary_rows,
            more=[(title, list(rows[0]) if rows else ["none"], rows) for title, rows in sheets],
        )
        return path.read_bytes()


def render_html(review: Review, charts: dict[str, str]) -> bytes:
    """A self-contained HTML page (inline SVG charts, no external asset)."""
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    env = Environment(
        loader=PackageLoader("collector.review", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    improved, regressed = review.movers()
    page = env.get_template("review.html.j2").render(
        review=review,
        period=_period(review),
        summary=summary(review),
        method=METHOD,
        controls=[c for c in control_rows(review) if c["applicable"]],
        slices=[_slice_label(review, a) for a, _ in review.slices],
        improved=improved,
        regressed=regressed,
        findings=finding_rows(review),
        recurring=recurring_rows(review),
        expiring=expiring_rows(review),
        charts={k: Markup(_inline(v)) for k, v in charts.items()},
        pct=_pct,
    )
    return page.encode()


def _inline(svg: str) -> str:
    return svg[svg.index("<svg") :]


def mover_rows(controls: list[ControlReview]) -> list[dict[str, Any]]:
    """Control, owner, share before and now, change in points."""
    return [
        {
            "control": c.control.id,
            "title": c.control.title,
            "owner": c.owner,
            "previous_passing_pct": _pct(c.previous.passing_share),
            "passing_pct": _pct(c.current.passing_share),
            "change_pts": _pct(c.change),
        }
        for c in controls
    ]
