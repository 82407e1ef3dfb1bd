"""Read-only pages: overview, controls, a control, a check, a record, runs.

Each is a small view over the CLI's own functions; ``?format=json`` gives the same facts.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from collector import audit, report
from collector.errors import UserError
from collector.measures import AGE_BANDS, measure_fields
from collector.review.build import PeriodMeasures, findings_by_band, period_measures
from collector.status import SEVERITY_ORDER, ControlState, ControlStatus, Scope, retire
from collector.web.app import WebContext, not_found, page
from collector.web.auth import Principal
from storage.sealing import observations_hash, seal

__all__ = ["check", "control", "controls", "overview", "record", "runs", "scope", "statuses_at"]

_ORDER = [*SEVERITY_ORDER, ControlState.MANUAL, ControlState.NOT_APPLICABLE]
STATES = [str(s) for s in dict.fromkeys(_ORDER + list(ControlState))]


def _instant(request: Request, ctx: WebContext, who: Principal) -> tuple[datetime, bool]:
    """The instant to show (``?at=DATE`` or now), clamped to an auditor's period."""
    now = ctx.clock()
    raw = request.query_params.get("at")
    at = audit.parse_instant(raw, "at", end_of_day=True) if raw else now
    at = who.clamp(min(at, now))
    return at, at != now


def scope(ctx: WebContext) -> Scope:
    """The config's scope, a removed target counting for the time it existed (as the CLI's),
    from the console's cached latest evidence (read only when a target can have retired)."""
    configured = ctx.workspace.scope(store=ctx.store)
    return retire(configured, ctx.cache.latest()) if configured.narrowed else configured


def statuses_at(
    ctx: WebContext, at: datetime, historic: bool, judged: Scope | None = None
) -> list[ControlStatus]:
    """The same statuses as ``annexa status`` (now) or ``annexa status --at`` (historic): the
    same evaluation of the same reads (``audit.statuses_at``), the reads from the console's
    cache."""
    manual, exceptions = ctx.store.manual_items(), ctx.store.exceptions()
    if historic:
        latest, judged = ctx.cache.latest_at(at), judged or scope(ctx)
    else:
        latest, judged = ctx.cache.latest(), judged or ctx.workspace.scope(store=ctx.store)
    return audit.statuses_from(ctx.workspace, ctx.soa, latest, at, manual, exceptions, judged)


def _safe(view: Any) -> Any:
    """Bad query input is a 400 page naming it, never a traceback."""

    def wrapped(request: Request, ctx: WebContext, who: Principal) -> Response:
        try:
            return view(request, ctx, who)
        except UserError as exc:
            return page(request, "error.html.j2", {"message": str(exc)}, who=who, status=400)

    wrapped.__name__ = view.__name__
    return wrapped


def _providers(ctx: WebContext, status: ControlStatus) -> set[str]:
    checks = ctx.workspace.registry.checks
    return {p for c in status.checks if c in checks for p in checks[c].providers}


@_safe
def overview(request: Request, ctx: WebContext, who: Principal) -> Response:
    """Controls by state, theme and owner, what changed in the last day and week, and the
    clause 9.1 measures of every control over the chosen period (default: the last 30 days)."""
    at, historic = _instant(request, ctx, who)
    judged = scope(ctx)
    now_statuses = statuses_at(ctx, at, historic, judged)
    by_state = Counter(str(s.state) for s in now_statuses)
    themes: dict[str, Counter[str]] = {}
    owners: dict[str, Counter[str]] = {}
    for s in now_statuses:
        themes.setdefault(s.control.theme, Counter())[str(s.state)] += 1
        owners.setdefault(s.owner or "(no owner)", Counter())[str(s.state)] += 1
    start, end = _period(request, ctx, who, at)
    measured = period_measures(
        ctx.workspace,
        ctx.store,
        ctx.soa,
        start=start,
        end=end,
        now=ctx.clock(),
        read=ctx.cache.timeline,
        whole=ctx.cache.whole,
        scope=judged,
    )
    changes = {}
    for label, delta in (("24 h", timedelta(days=1)), ("7 days", timedelta(days=7))):
        before = _states_before(ctx, measured, at, who.clamp(at - delta), judged)
        changes[label] = [
            (s.control, before.get(s.control.id), s.state)
            for s in now_statuses
            if before.get(s.control.id) is not s.state
        ]
    chart = _change_chart(changes)
    summary = _measure_summary(measured, now_statuses)
    return page(
        request,
        "overview.html.j2",
        {
            "at": at,
            "historic": historic,
            "states": STATES,
            "by_state": by_state,
            "themes": themes,
            "owners": owners,
            "changes": changes,
            "chart": chart,
            "start": start,
            "end": measured.end,
            "measured": measured,
            "summary": summary,
            "bands": [label for label, _ in AGE_BANDS],
            "by_band": findings_by_band(measured.open_findings),
            "json": {
                "at": report.iso(at),
                "by_state": by_state,
                "themes": themes,
                "changes": {
                    label: [
                        {"control": c.id, "before": before and str(before), "now": str(now)}
                        for c, before, now in moved
                    ]
                    for label, moved in changes.items()
                },
                "measures": _measures_json(measured),
            },
        },
        who=who,
    )


def _states_before(
    ctx: WebContext, measured: PeriodMeasures, at: datetime, when: datetime, judged: Scope
) -> dict[str, ControlState]:
    """Every control's state at ``when``: read off the period's continuity timelines when the
    period covers ``[when, at]`` (the same state ``status --at`` gives), else evaluated."""
    if not (measured.start <= when and measured.end == at):
        return {s.control.id: s.state for s in statuses_at(ctx, when, True, judged)}
    states = {}
    for control_id, found in measured.continuity.items():
        state = ControlState.NOT_APPLICABLE if found.share is None else None
        for instant, changed in found.timeline:
            if instant > when:
                break
            state = changed
        if state is not None:
            states[control_id] = state
    return states


def _measure_summary(measured: PeriodMeasures, statuses: list[ControlStatus]) -> dict[str, Any]:
    """The overview's figures over every applicable control's measures for the period."""
    applicable = [m for m in measured.measures.values() if m.passing_share is not None]
    restores = [t for m in applicable for t in m.restore_times]
    health: Counter[str] = Counter()
    for m in applicable:
        for cause, spent in m.health.items():
            health[cause] += int(spent.total_seconds())
    owner = {s.control.id: s.owner for s in statuses}
    lowest = sorted(
        (m.passing_share, cid, owner.get(cid, ""), m)
        for cid, m in measured.measures.items()
        if m.passing_share is not None and m.passing_share < 1
    )
    return {
        "mean_share": measured.mean_share(),
        "went_failing": sum(m.went_failing for m in applicable),
        "controls_went_failing": sum(1 for m in applicable if m.went_failing),
        "mean_restore": sum(restores, timedelta(0)) / len(restores) if restores else None,
        "worst_restore": max(restores, default=None),
        "failing": sum((m.failing for m in applicable), timedelta(0)),
        "accepted_days": sum(m.accepted / timedelta(days=1) for m in applicable),
        "health": {cause: timedelta(seconds=n) for cause, n in health.items()},
        "lowest": [(cid, who, m) for _, cid, who, m in lowest[:10]],
    }


def _measures_json(measured: PeriodMeasures) -> dict[str, Any]:
    """The period's measures as JSON: per control ``measure_fields``, open findings, expiring."""
    return {
        "from": report.iso(measured.start),
        "to": report.iso(measured.end),
        "controls": {
            cid: {k: report.iso(v) if isinstance(v, datetime) else v for k, v in fields.items()}
            for cid, m in measured.measures.items()
            for fields in [measure_fields(m)]
        },
        "open_findings": [
            {
                "check": f.age.check_id,
                "target": f.age.target_key,
                "resource": f.age.resource,
                "failing_since": report.iso(f.age.failing_since),
                "since_before_period": f.age.since_before,
                "age_band": f.band,
                "severity": f.severity,
                "accepted_by": f.accepted_by,
            }
            for f in measured.open_findings
        ],
        "expiring_manual": [
            {"control": m.control_id, "file": m.file_name, "valid_until": report.iso(m.valid_until)}
            for m in measured.expiring
        ],
    }


def _change_chart(changes: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Bars for the overview chart: per window, how many controls moved to each state."""
    bars = []
    for label, moved in changes.items():
        counts = Counter(str(to) for _, _, to in moved)
        bars.append({"label": label, "counts": [(s, counts[s]) for s in STATES if counts[s]]})
    return bars


@_safe
def controls(request: Request, ctx: WebContext, who: Principal) -> Response:
    """The controls table with filters (state, theme, owner, provider) and search."""
    at, historic = _instant(request, ctx, who)
    q = request.query_params
    wanted = {k: q.get(k, "").strip() for k in ("state", "theme", "owner", "provider", "q")}
    shown = []
    for s in statuses_at(ctx, at, historic):
        text = f"{s.control.id} {s.control.title} {s.owner}".lower()
        if (
            (wanted["state"] and str(s.state) != wanted["state"])
            or (wanted["theme"] and s.control.theme != wanted["theme"])
            or (wanted["owner"] and s.owner != wanted["owner"])
            or (wanted["provider"] and wanted["provider"] not in _providers(ctx, s))
            or (wanted["q"] and wanted["q"].lower() not in text)
        ):
            continue
        shown.append(s)
    all_statuses = ctx.workspace.catalogue.controls
    return page(
        request,
        "controls.html.j2",
        {
            "at": at,
            "historic": historic,
            "statuses": shown,
            "wanted": wanted,
            "states": STATES,
            "themes": sorted({c.theme for c in all_statuses}),
            "owners": sorted({e.owner for e in ctx.soa.entries.values() if e.owner}),
            "providers": ctx.workspace.registry.providers(),
            "json": report.status_rows(shown),
        },
        who=who,
    )


def console_url(resource: str) -> str | None:
    """A link to the resource in its provider's console, where a URL pattern exists."""
    if resource.startswith("arn:aws"):
        return f"https://console.aws.amazon.com/go/view?arn={quote(resource, safe='')}"
    if resource.lower().startswith("/subscriptions/"):
        return f"https://portal.azure.com/#resource{quote(resource, safe='/')}"
    if resource.startswith("//") and ".googleapis.com/" in resource:
        return f"https://console.cloud.google.com/search;q={quote(resource, safe='')}"
    return None


@_safe
def control(request: Request, ctx: WebContext, who: Principal) -> Response:
    """One control: reasons, mapped checks and strength, targets, failing resources,
    continuity over a period, evidence history, exceptions and manual evidence."""
    control_id = request.path_params["control_id"]
    if control_id not in ctx.workspace.catalogue:
        return not_found(request, f"control {control_id}", who)
    at, historic = _instant(request, ctx, who)
    mapping = ctx.workspace.mapping
    checks = [(c, mapping.pair(c, control_id)) for c in mapping.checks_for(control_id)]
    check_ids = [c for c, _ in checks]
    # the status reads only this control's checks' latest evidence (as status --at reads it)
    latest = ctx.store.latest_at(at if historic else None, check_ids) if check_ids else []
    judged = scope(ctx)
    start, end = _period(request, ctx, who, at)
    exceptions = ctx.store.exceptions()
    manual = ctx.store.manual_items([control_id])
    evaluated = audit.statuses_from(ctx.workspace, ctx.soa, latest, at, manual, exceptions, judged)
    status = next(s for s in evaluated if s.control.id == control_id)
    measured = period_measures(
        ctx.workspace,
        ctx.store,
        ctx.soa,
        start=start,
        end=end,
        now=ctx.clock(),
        controls=[control_id],
        read=ctx.cache.timeline,
        whole=ctx.cache.whole,
        scope=judged,
    )
    continuity = measured.continuity[control_id]
    latest = [s for s in latest if judged.counts(s.check_id, s.target_key, at)]
    failing = [
        (summary, resource, console_url(resource))
        for summary in latest
        for resource in summary.failing_resources
    ]
    since = who.period[0] if who.period else None
    history = (
        ctx.store.history(check_ids=check_ids, since=since, until=at, limit=50) if check_ids else []
    )
    return page(
        request,
        "control.html.j2",
        {
            "status": status,
            "at": at,
            "historic": historic,
            "checks": checks,
            "latest": latest,
            "failing": failing,
            "start": start,
            "end": end,
            "continuity": continuity,
            "segments": _segments(continuity.timeline, start, end),
            "history": history,
            "exceptions": [e for e in exceptions if e.check_id in check_ids],
            "manual": manual,
            "now": ctx.clock(),
            "measured": measured,
            "measures": measured.measures[control_id],
            "bands": [label for label, _ in AGE_BANDS],
            "by_band": findings_by_band(measured.open_findings),
            "json": {**report.status_rows([status])[0], "measures": _measures_json(measured)},
        },
        who=who,
    )


def _period(
    request: Request, ctx: WebContext, who: Principal, at: datetime
) -> tuple[datetime, datetime]:
    q = request.query_params
    end = audit.parse_instant(q["to"], "to", end_of_day=True) if q.get("to") else at
    start = audit.parse_instant(q["from"], "from") if q.get("from") else default_start(end)
    end = who.clamp(min(end, ctx.clock()))
    start = who.clamp(start)
    if end <= start:
        raise UserError("from must be before to (and inside your period)")
    return start, end


def default_start(end: datetime) -> datetime:
    """A period's start when none is chosen: the 30 days before ``end``, from midnight UTC (a
    start that holds all day, so the console's cut of the period keeps serving)."""
    return (end - timedelta(days=30)).replace(hour=0, minute=0, second=0, microsecond=0)


def warm(ctx: WebContext) -> None:
    """Make the reads the overview needs now (the latest evidence; the mapped checks' timeline
    of all time, with continuity's memo over it), so that its first visitor does not wait."""
    now = ctx.clock()
    period_measures(
        ctx.workspace,
        ctx.store,
        ctx.soa,
        start=default_start(now),
        end=now,
        now=now,
        read=ctx.cache.timeline,
        whole=ctx.cache.whole,
        scope=scope(ctx),
    )


def _segments(timeline: Any, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The continuity timeline as percentage-wide segments for an SVG bar."""
    span = (end - start).total_seconds()
    bounds = [when for when, _ in timeline[1:]] + [end]
    segments, offset = [], 0.0
    for (when, state), until in zip(timeline, bounds, strict=True):
        width = 100 * (until - when).total_seconds() / span
        segments.append(
            {"x": offset, "width": width, "state": str(state or "no_evidence"), "from": when}
        )
        offset += width
    return segments


@_safe
def check(request: Request, ctx: WebContext, who: Principal) -> Response:
    """One check's findings per target over time."""
    check_id = request.path_params["check_id"]
    spec = ctx.workspace.registry.checks.get(check_id)
    if spec is None:
        return not_found(request, f"check {check_id}", who)
    at, _ = _instant(request, ctx, who)
    since = who.period[0] if who.period else None
    history = ctx.store.history(check_ids=[check_id], since=since, until=at, limit=200)
    targets: dict[str, list[Any]] = {}
    for item in history:
        targets.setdefault(item.target_key, []).append(item)
    return page(
        request,
        "check.html.j2",
        {
            "spec": spec,
            "controls": ctx.workspace.mapping.controls_for(check_id),
            "targets": targets,
            "json": report.evidence_rows(history),
        },
        who=who,
    )


@_safe
def record(request: Request, ctx: WebContext, who: Principal) -> Response:
    """One sealed record, its observations, and its seal recomputed on the page."""
    item = ctx.store.record_by_id(request.path_params["record_id"])
    if item is None or (who.period and not who.period[0] <= item.collected_at < who.period[1]):
        return not_found(request, f"record #{request.path_params['record_id']}", who)
    recomputed = seal(item, item.previous_hash, observations_hash(item.observations))
    return page(
        request,
        "record.html.j2",
        {
            "item": item,
            "recomputed": recomputed,
            "intact": recomputed == item.content_hash,
            "json": report.evidence_rows([item], full=True)[0],
        },
        who=who,
    )


@_safe
def runs(request: Request, ctx: WebContext, who: Principal) -> Response:
    """Recent collection runs and their outcome."""
    items = ctx.store.runs(limit=50)
    if who.period:
        items = [r for r in items if who.period[0] <= r.started_at < who.period[1]]
    return page(request, "runs.html.j2", {"runs": items, "json": report.run_rows(items)}, who=who)
