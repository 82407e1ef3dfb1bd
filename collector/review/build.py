"""Build a ``Review`` from the store: one read of the evidence timeline (run-length compressed
as it is read), then continuity and measures for the period, the previous period of equal
length and every month (or week) of the period, all from that one in-memory history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from collector.app import Workspace
from collector.applicability import Applicability, applicability
from collector.catalogue import Control
from collector.continuity import Continuity, continuity, tightest_max_ages
from collector.errors import UserError
from collector.exceptions import accepting
from collector.measures import (
    ControlMeasures,
    FindingAge,
    Recurrence,
    age_band,
    expiring_manual,
    finding_history,
    measure_timeline,
    split_period,
)
from collector.soa import Soa
from collector.status import Scope
from storage import EvidenceStore, EvidenceSummary, ManualEvidence, RiskException

__all__ = [
    "ControlReview",
    "OpenFinding",
    "PeriodMeasures",
    "Review",
    "build_review",
    "findings_by_band",
    "period_measures",
]


@dataclass(frozen=True)
class ControlReview:
    """One control: its measures for the period, the previous period and each trend slice."""

    control: Control
    owner: str
    applicable: bool  # at some instant of the period (the SoA, corrected by recorded changes)
    current: ControlMeasures
    previous: ControlMeasures
    trend: tuple[ControlMeasures, ...]

    @property
    def change(self) -> float | None:
        """Passing share now minus in the previous period (percentage points / 100)."""
        now, before = self.current.passing_share, self.previous.passing_share
        return None if now is None or before is None else now - before


@dataclass(frozen=True)
class OpenFinding:
    """A failing resource at the period's end, with its check's severity and any exception."""

    age: FindingAge
    severity: str
    band: str
    accepted_by: int | None  # the exception id that accepts it at the end


@dataclass(frozen=True)
class Review:
    """Everything the management review report shows, computed from stored evidence only."""

    start: datetime
    end: datetime  # clipped to ``now``
    requested_end: datetime
    now: datetime
    unit: str
    slices: tuple[tuple[datetime, datetime], ...]
    controls: tuple[ControlReview, ...]
    open_findings: tuple[OpenFinding, ...]
    recurring: tuple[Recurrence, ...]
    expiring: tuple[ManualEvidence, ...]
    expiring_within: timedelta

    @property
    def clipped(self) -> bool:
        """Whether the requested period reached past ``now`` (time after now is not counted)."""
        return self.requested_end > self.end

    @property
    def applicable(self) -> list[ControlReview]:
        """The controls applicable at some instant of the period (the SoA, corrected by the
        applicability changes the store recorded)."""
        return [c for c in self.controls if c.applicable]

    def mean_share(self, which: str = "current", index: int | None = None) -> float | None:
        """Mean passing share over applicable controls: ``current``, ``previous`` or a slice."""
        shares = [
            (c.trend[index] if index is not None else getattr(c, which)).passing_share
            for c in self.applicable
        ]
        known = [s for s in shares if s is not None]
        return sum(known) / len(known) if known else None

    def states_at_end(self, index: int | None = None) -> Counter[str]:
        """How many applicable controls ended the period (or slice ``index``) in each state."""
        measures = [c.trend[index] if index is not None else c.current for c in self.applicable]
        return Counter(
            str(m.state_at_end or ("not_applicable" if m.passing_share is None else "no_evidence"))
            for m in measures
        )

    def movers(self, limit: int = 5) -> tuple[list[ControlReview], list[ControlReview]]:
        """The controls whose passing share improved most and regressed most."""
        moved = [c for c in self.applicable if c.change]
        ranked = sorted(moved, key=lambda c: (c.change, c.control.id))
        improved = [c for c in reversed(ranked) if (c.change or 0) > 0][:limit]
        regressed = [c for c in ranked if (c.change or 0) < 0][:limit]
        return improved, regressed

    def findings_by_band(self) -> dict[str, Counter[str]]:
        """Severity -> age band -> number of open failing findings not accepted."""
        return findings_by_band(self.open_findings)


def findings_by_band(open_findings: Sequence[OpenFinding]) -> dict[str, Counter[str]]:
    """Severity -> age band -> number of open failing findings not accepted."""
    table: dict[str, Counter[str]] = {}
    for finding in open_findings:
        if finding.accepted_by is None:
            table.setdefault(finding.severity, Counter())[finding.band] += 1
    return table


TimelineRead = Callable[
    [datetime, datetime, Sequence[str], Mapping[str, timedelta | None]], Sequence[EvidenceSummary]
]


@dataclass(frozen=True)
class PeriodMeasures:
    """The report's measures for one period (the web console's view of them): per control its
    continuity and measures, the open failing findings at the end, manual evidence expiring."""

    start: datetime
    end: datetime  # clipped to ``now``
    continuity: dict[str, Continuity]  # control id -> continuity (its state timeline)
    measures: dict[str, ControlMeasures]
    open_findings: tuple[OpenFinding, ...]
    expiring: tuple[ManualEvidence, ...]
    expiring_within: timedelta

    def mean_share(self) -> float | None:
        """Mean passing share over the controls measured (None: none applicable)."""
        known = [m.passing_share for m in self.measures.values() if m.passing_share is not None]
        return sum(known) / len(known) if known else None


def _period(start: datetime, end: datetime, now: datetime) -> datetime:
    """The period's end clipped at ``now``; UserError when nothing of it is left."""
    until = min(end, now)
    if until <= start:
        raise UserError(
            f"--from {start.isoformat()} is not before --to "
            f"{until.isoformat()}{' (now)' if until == now else ''}"
        )
    return until


def _measured(found: Sequence[Continuity], start: datetime, end: datetime) -> list[ControlMeasures]:
    return [
        measure_timeline(c.timeline, start, end) if c.share is not None else ControlMeasures(None)
        for c in found
    ]


def period_measures(
    workspace: Workspace,
    store: EvidenceStore,
    soa: Soa | None,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    controls: Sequence[str] | None = None,
    expiring_within: timedelta = timedelta(days=30),
    read: TimelineRead | None = None,
    scope: Scope | None = None,
    whole: Callable[[Sequence[EvidenceSummary]], tuple[Sequence[EvidenceSummary], dict] | None]
    | None = None,
) -> PeriodMeasures:
    """The measures of ``controls`` (None: every control) over ``[start, end)`` clipped at
    ``now``, computed as ``build_review`` computes them (same inputs, same continuity), reading
    only the evidence of the checks mapped to those controls, over ``scope`` (default: the
    config's, a removed target counting for the time it existed); UserError on an empty
    period. ``read`` replaces the store's timeline read (the console's cache); ``whole`` gives
    for what it read the longer timeline it was cut from and continuity's memo over that
    (``continuity.continuity``), for continuity to be computed from them."""
    until = _period(start, end, now)
    wanted = None if controls is None else set(controls)
    checks = sorted(
        {c for c, control, _ in workspace.mapping.pairs() if wanted is None or control in wanted}
    )
    inputs = _inputs(workspace, store, soa, scope, checks)
    if read is not None:
        history = read(start, until, checks, inputs.max_ages)
    else:
        history = list(store.timeline(start, until, check_ids=checks, max_ages=inputs.max_ages))
    longer, memo = (whole(history) if whole else None) or (history, None)
    found = [
        c
        for c in _continuity(workspace, soa, inputs, longer, start, until, memo)
        if wanted is None or c.control.id in wanted
    ]
    ages, _ = finding_history(history, start, until)
    mine = [m for m in inputs.manual if wanted is None or m.control_id in wanted]
    return PeriodMeasures(
        start=start,
        end=until,
        continuity={c.control.id: c for c in found},
        measures={
            c.control.id: m for c, m in zip(found, _measured(found, start, until), strict=True)
        },
        open_findings=tuple(_open(workspace, ages, inputs.exceptions, until, inputs.scope)),
        expiring=tuple(expiring_manual(mine, now, expiring_within)),
        expiring_within=expiring_within,
    )


@dataclass(frozen=True)
class _Inputs:
    """What continuity needs besides the evidence timeline, read once per report or page."""

    intervals: dict[str, timedelta]
    changed: dict[str, Applicability]  # controls whose recorded applicability differs
    max_ages: dict[str, timedelta | None]
    manual: Sequence[ManualEvidence]
    exceptions: Sequence[RiskException]
    scope: Scope


def _inputs(
    workspace: Workspace,
    store: EvidenceStore,
    soa: Soa | None,
    scope: Scope | None = None,
    checks: Sequence[str] | None = None,
) -> _Inputs:
    """``scope`` default: the config's, a removed target counting for the time it existed
    (``checks``: the checks read)."""
    intervals = {c.id: c.interval for c in workspace.registry.checks.values()}
    changed = applicability(store.transitions(), soa)
    return _Inputs(
        intervals=intervals,
        changed=changed,
        max_ages=tightest_max_ages(soa, workspace.mapping, intervals, also=set(changed)),
        manual=store.manual_items(),
        exceptions=store.exceptions(),
        scope=scope or workspace.with_history(workspace.scope(store=store), store, checks),
    )


def _continuity(
    workspace: Workspace,
    soa: Soa | None,
    inputs: _Inputs,
    history: Sequence[EvidenceSummary],
    start: datetime,
    end: datetime,
    memo: dict | None = None,
) -> list[Continuity]:
    return continuity(
        workspace.catalogue,
        soa,
        workspace.mapping,
        history,
        inputs.intervals,
        start,
        end,
        scope=inputs.scope,
        manual=inputs.manual,
        exceptions=inputs.exceptions,
        applicable=inputs.changed,
        memo=memo,
    )


def build_review(
    workspace: Workspace,
    store: EvidenceStore,
    soa: Soa | None,
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    unit: str = "month",
    expiring_within: timedelta = timedelta(days=30),
) -> Review:
    """The review of ``[start, end)`` (clipped at ``now``); UserError on an empty period."""
    until = _period(start, end, now)
    length = until - start
    previous = (start - length, start)
    catalogue = workspace.catalogue
    checks = sorted({c for c, _, _ in workspace.mapping.pairs()})
    inputs = _inputs(workspace, store, soa)
    history = list(store.timeline(previous[0], until, check_ids=checks, max_ages=inputs.max_ages))
    manual, exceptions = inputs.manual, inputs.exceptions

    def measured(a: datetime, b: datetime) -> list[ControlMeasures]:
        return _measured(_continuity(workspace, soa, inputs, history, a, b), a, b)

    slices = tuple(split_period(start, until, unit))
    current, before = measured(start, until), measured(*previous)
    per_slice = [measured(a, b) for a, b in slices]
    controls = []
    for i, control in enumerate(catalogue.controls):
        entry = soa.entry(control.id) if soa is not None else None
        controls.append(
            ControlReview(
                control=control,
                owner=entry.owner if entry is not None else "",
                applicable=current[i].passing_share is not None,
                current=current[i],
                previous=before[i],
                trend=tuple(s[i] for s in per_slice),
            )
        )
    ages, recurring = finding_history(history, start, until)
    return Review(
        start=start,
        end=until,
        requested_end=end,
        now=now,
        unit=unit,
        slices=slices,
        controls=tuple(controls),
        open_findings=tuple(_open(workspace, ages, exceptions, until, inputs.scope)),
        recurring=tuple(recurring),
        expiring=tuple(expiring_manual(manual, now, expiring_within)),
        expiring_within=expiring_within,
    )


def _open(
    workspace: Workspace,
    ages: Sequence[FindingAge],
    exceptions: Sequence,
    at: datetime,
    scope: Scope,
) -> list[OpenFinding]:
    """The failing findings open at ``at`` on the targets in ``scope`` then."""
    found = []
    for age in ages:
        if not scope.counts(age.check_id, age.target_key, at):
            continue
        spec = workspace.registry.checks.get(age.check_id)
        accepted = accepting(exceptions, age.check_id, age.target_key, [age.resource], at)
        exception = accepted.get(age.resource)
        found.append(
            OpenFinding(
                age=age,
                severity=spec.severity if spec is not None else "unknown",
                band=age_band(at - age.failing_since),
                accepted_by=exception.id if exception is not None else None,
            )
        )
    return found
