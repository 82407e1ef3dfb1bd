"""The ``report`` command's body: parse, build the review once, render every ``--out``."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from checks.api import parse_duration
from collector import app as core
from collector.audit import parse_instant
from collector.clock import utcnow
from collector.errors import UserError
from collector.outfile import write_output
from collector.review.build import Review, build_review
from collector.settings import Settings

__all__ = ["FORMATS", "report_command"]

FORMATS = (".html", ".pdf", ".csv", ".xlsx", ".json")


def report_command(
    settings: Settings,
    start: str,
    end: str,
    outs: list[Path],
    *,
    soa: Path | None,
    by: str,
    expiring: str,
    force: bool,
    out: Console,
    err: Console,
) -> None:
    begin = parse_instant(start, "--from")
    until = parse_instant(end, "--to", end_of_day=True)
    if until <= begin:
        raise UserError(f"--from {start} is not before --to {end}: empty or inverted period")
    for path in outs:
        if path.suffix.lower() not in FORMATS:
            raise UserError(f"--out {path}: unknown format; use one of {', '.join(FORMATS)}")
    try:
        window = parse_duration(expiring)
    except (ValueError, OverflowError) as exc:
        raise UserError(f"--expiring-within {expiring!r}: {exc}") from None
    workspace = core.load_workspace(settings)
    chosen_soa, notice = workspace.soa(soa)
    if notice:
        err.print(f"[yellow]note:[/] {notice}")
    with core.open_store(settings) as store:
        review = build_review(
            workspace,
            store,
            chosen_soa,
            start=begin,
            end=until,
            now=utcnow(),
            unit=by,
            expiring_within=window,
        )
    if review.clipped:
        err.print(f"note: the period is clipped at now ({review.end.isoformat()})")
    for path in outs:
        write_output(path, render(review, path.suffix.lower()), force=force)
        out.print(f"wrote {path}")


def render(review: Review, suffix: str) -> bytes:
    """The review in the format named by a file suffix (one of ``FORMATS``)."""
    from collector.review import render as r

    if suffix == ".json":
        return r.render_json(review)
    if suffix == ".csv":
        return r.render_csv(review)
    if suffix == ".xlsx":
        return r.render_xlsx(review)
    from collector.review.charts import CHARTS, render_chart

    if suffix == ".html":
        charts = {name: render_chart(name, review, "svg").decode() for name in CHARTS}
        return r.render_html(review, charts)
    from collector.review.pdf import render_pdf

    return render_pdf(review, lambda name: render_chart(name, review, "png"))
