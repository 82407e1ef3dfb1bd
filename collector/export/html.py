"""``index.html``: the period's SoA, per control its status timeline, continuity, evidence,
failing resources, manual evidence and exceptions; at the top the count of controls per state
and what each state means. Every control's section has the control id as its anchor
(``index.html#A.8.24``). Jinja2 with autoescaping; inline CSS, no scripts, no external assets,
so it reads offline. Rendered as a stream into the package."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from collector.export.package import PackageWriter
from collector.status import SEVERITY_ORDER, ControlState, ControlStatus

__all__ = ["HTML_FAILING_SHOWN", "STATE_MEANINGS", "render_index", "state_summary"]

HTML_FAILING_SHOWN = 25  # failing resources listed per control; the rest are in its CSV
STATE_MEANINGS = {
    "failing": "a mapped check's latest evidence has a failing finding no exception accepts",
    "error": "a mapped check could not be evaluated (the cause is listed)",
    "stale": "the newest evidence of a mapped check is older than its maximum age",
    "no_evidence": "a mapped check in scope has never run",
    "accepted": "every failing finding is covered by an active, approved exception",
    "passing": "fresh evidence from every mapped check, nothing failing",
    "attested": "manual evidence inside its validity window",
    "manual": "no automated check evidences it: evidence comes from the ISMS's own records",
    "not_applicable": "excluded by the Statement of Applicability (justification shown)",
}


def state_summary(statuses: Iterable[ControlStatus]) -> list[dict[str, Any]]:
    """Every state, worst first, with how many controls are in it and what it means."""
    counts = Counter(s.state.value for s in statuses)
    order = [s.value for s in SEVERITY_ORDER]
    order += [s.value for s in ControlState if s.value not in order]
    return [
        {"state": state, "count": counts.get(state, 0), "meaning": STATE_MEANINGS.get(state, "")}
        for state in order
    ]


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("collector.export", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_index(writer: PackageWriter, context: dict[str, Any]) -> None:
    """Render ``index.html.j2`` chunk by chunk into ``index.html``."""
    template = _environment().get_template("index.html.j2")
    with writer.open("index.html") as f:
        for chunk in template.generate(**context):
            f.write(chunk.encode())
