"""Monitoring and measurement (ISO/IEC 27001 clause 9.1): measures per control over a period.

Pure functions of what continuity already derives (each control's state timeline, the same one
``status --from/--to`` reports) and of the evidence timeline per (check, target, resource).
Nothing here reads a clock or the store: ``start``, ``end`` and ``now`` are parameters.

Definitions (the report states them as its method):
- *passing share*: time in ``passing`` or ``attested`` divided by the time the control was
  applicable in the period (None when it never was).
- *excluded*: time in ``not_applicable`` (the SoA excluded the control for part of the
  period); it counts toward no other measure, and an exclusion ends a failing episode untimed
  (it was neither shown restored nor failing on).
- *went failing*: entries into ``failing`` after the period's start.
- *time to restore*: for a failing episode that began inside the period, the time from entering
  ``failing`` to the next ``passing``/``attested`` (time in ``error``/``stale`` in between counts:
  nobody knew it was restored; so does time ``accepted``: an accepted failure is still one).
  Episodes still open at the end are reported as open, not timed.
- *collection health*: time in ``stale``, ``error`` and ``no_evidence``, kept apart from failure.
- *accepted*: time in ``accepted`` (every failure covered by an active exception).
- *open findings*: failing (check, target, resource) triples at the end, aged from the first
  record that showed them failing without a fix in between (``since_before`` when that was
  before the period, so the age is a lower bound).
- *recurring*: a triple that failed, was fixed (a conclusive record without it) and failed
  again, the re-failure inside the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from collector.manual import current_items
from collector.status import GOOD_STATES, ControlState
from storage.records import EvidenceSummary, ManualEvidence

__all__ = [
    "AGE_BANDS",
    "MEASURE_COLUMNS",
    "ControlMeasures",
    "FindingAge",
    "Recurrence",
    "Timeline",
    "age_band",
    "expiring_manual",
    "finding_history",
    "hours",
    "measure_fields",
    "measure_timeline",
    "split_period",
]

Timeline = Sequence[tuple[datetime, ControlState | None]]  # state from each instant on
_HEALTH = {
    ControlState.STALE: "stale",
    ControlState.ERROR: "error",
    ControlState.NO_EVIDENCE: "no_evidence",
    ControlState.MANUAL: "no_evidence",
    None: "no_evidence",
}
AGE_BANDS: tuple[tuple[str, timedelta | None], ...] = (
    ("0-7d", timedelta(days=7)),
    ("8-30d", timedelta(days=30)),
    ("31-90d", timedelta(days=90)),
    (">90d", None),
)


@dataclass(frozen=True)
class ControlMeasures:
    """One control's measures over ``[start, end)`` (``passing_share`` None: not applicable
    at any time in it)."""

    passing_share: float | None
    went_failing: int = 0
    failing_at_start: bool = False
    restore_times: tuple[timedelta, ...] = ()
    open_failing_since: datetime | None = None
    failing: timedelta = timedelta(0)
    accepted: timedelta = timedelta(0)
    excluded: timedelta = timedelta(0)
    health: dict[str, timedelta] = field(default_factory=dict)  # stale / error / no_evidence
    state_at_end: ControlState | None = None

    @property
    def mean_restore(self) -> timedelta | None:
        """Mean time to restore over the closed episodes, None when there were none."""
        if not self.restore_times:
            return None
        return sum(self.restore_times, timedelta(0)) / len(self.restore_times)

    @property
    def worst_restore(self) -> timedelta | None:
        """Longest time to restore over the closed episodes, None when there were none."""
        return max(self.restore_times, default=None)

    @property
    def unhealthy(self) -> timedelta:
        """Total time without conclusive fresh evidence (stale, error or no evidence)."""
        return sum(self.health.values(), timedelta(0))


def measure_timeline(timeline: Timeline, start: datetime, end: datetime) -> ControlMeasures:
    """Measures of one control from its state timeline over ``[start, end)``.

    ``timeline`` holds ``(instant, state)`` changes, the first at ``start``; instants at or after
    ``end`` are ignored. Raises ValueError for an empty period or a timeline not starting at
    ``start``.
    """
    if end <= start:
        raise ValueError(f"empty period: {start.isoformat()} is not before {end.isoformat()}")
    changes = [(when, state) for when, state in timeline if when < end]
    if not changes or changes[0][0] != start:
        raise ValueError("a control timeline must start at the period's start")
    good = failing = accepted = excluded = timedelta(0)
    health: dict[str, timedelta] = {}
    went_failing, restores = 0, []
    episode_start: datetime | None = None  # the current failing episode, when it began inside
    open_since: datetime | None = None
    bounds = [when for when, _ in changes[1:]] + [end]
    for (when, state), until in zip(changes, bounds, strict=True):
        span = until - when
        if state in GOOD_STATES:
            good += span
            if open_since is not None and episode_start is not None:
                restores.append(when - episode_start)
            open_since = episode_start = None
        elif state is ControlState.FAILING:
            failing += span
            if open_since is None:
                open_since = when
                if when > start:
                    went_failing += 1
                    episode_start = when
        elif state is ControlState.ACCEPTED:
            accepted += span
        elif state is ControlState.NOT_APPLICABLE:
            excluded += span
            open_since = episode_start = None
        else:
            cause = _HEALTH.get(state, "no_evidence")
            health[cause] = health.get(cause, timedelta(0)) + span
    applicable = end - start - excluded
    return ControlMeasures(
        passing_share=good / applicable if applicable else None,
        went_failing=went_failing,
        failing_at_start=changes[0][1] is ControlState.FAILING,
        restore_times=tuple(restores),
        open_failing_since=open_since,
        failing=failing,
        accepted=accepted,
        excluded=excluded,
        health=health,
        state_at_end=changes[-1][1],
    )


MEASURE_COLUMNS = (
    "state_at_end",
    "passing_pct",
    "went_failing",
    "failing_at_start",
    "mean_restore_h",
    "worst_restore_h",
    "failing_since",
    "failing_h",
    "accepted_days",
    "stale_h",
    "error_h",
    "no_evidence_h",
    "excluded_days",
)


def hours(value: timedelta | None) -> float | None:
    """A duration in hours, rounded to 0.01 (None stays None)."""
    return None if value is None else round(value.total_seconds() / 3600, 2)


def measure_fields(m: ControlMeasures) -> dict[str, object]:
    """One control's measures as flat fields (``MEASURE_COLUMNS``): percentages, hours, days."""
    return {
        "state_at_end": str(
            m.state_at_end or ("not_applicable" if m.passing_share is None else "")
        ),
        "passing_pct": None if m.passing_share is None else round(100 * m.passing_share, 2),
        "went_failing": m.went_failing,
        "failing_at_start": m.failing_at_start,
        "mean_restore_h": hours(m.mean_restore),
        "worst_restore_h": hours(m.worst_restore),
        "failing_since": m.open_failing_since,
        "failing_h": hours(m.failing),
        "accepted_days": round(m.accepted / timedelta(days=1), 2),
        **{
            f"{k}_h": hours(m.health.get(k, timedelta(0)))
            for k in ("stale", "error", "no_evidence")
        },
        "excluded_days": round(m.excluded / timedelta(days=1), 2),
    }


def split_period(
    start: datetime, end: datetime, unit: str = "month"
) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` cut at UTC calendar month starts (``month``) or Mondays (``week``)."""
    if end <= start:
        raise ValueError(f"empty period: {start.isoformat()} is not before {end.isoformat()}")
    cuts, cursor = [start], start
    while True:
        cursor = _next_boundary(cursor, unit)
        if cursor >= end:
            break
        cuts.append(cursor)
    cuts.append(end)
    return list(pairwise(cuts))


def _next_boundary(moment: datetime, unit: str) -> datetime:
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return midnight + timedelta(days=7 - midnight.weekday())
    if unit != "month":
        raise ValueError(f"unknown trend unit {unit!r}: month or week")
    first = midnight.replace(day=1)
    return (
        first.replace(year=first.year + 1, month=1)
        if first.month == 12
        else first.replace(month=first.month + 1)
    )


def age_band(age: timedelta) -> str:
    """The label of the age band ``age`` falls in (``0-7d``, ``8-30d``, ``31-90d``, ``>90d``)."""
    for label, limit in AGE_BANDS:
        if limit is None or age <= limit:
            return label
    raise AssertionError("the last band is open-ended")  # pragma: no cover


@dataclass(frozen=True)
class FindingAge:
    """A failing (check, target, resource) at the period's end and since when it fails."""

    check_id: str
    target_key: str
    resource: str
    failing_since: datetime
    since_before: bool  # it was already failing when the period began: the age is a lower bound


@dataclass(frozen=True)
class Recurrence:
    """A (check, target, resource) that failed again after being fixed, inside the period."""

    check_id: str
    target_key: str
    resource: str
    refailures: int
    last_failed_at: datetime


def finding_history(
    history: Iterable[EvidenceSummary], start: datetime, end: datetime
) -> tuple[list[FindingAge], list[Recurrence]]:
    """Open failing findings at ``end`` and the findings that recurred in ``[start, end)``.

    ``history`` is the evidence timeline (``EvidenceStore.timeline``, optionally compressed):
    per (check, target) the latest summary at ``start`` then every later one, oldest first. An
    ``error`` summary changes nothing (nobody looked); a conclusive one fixes the resources it no
    longer lists as failing.
    """
    since: dict[tuple[str, str, str], tuple[datetime, bool]] = {}
    fixed: set[tuple[str, str, str]] = set()
    refailed: dict[tuple[str, str, str], tuple[int, datetime]] = {}
    failing_now: dict[tuple[str, str], tuple[str, ...]] = {}  # sorted, distinct
    for item in sorted(history, key=lambda s: s.collected_at):
        if item.collected_at >= end or item.status == "error":
            continue
        key = (item.check_id, item.target_key)
        previous = failing_now.get(key, ())
        if item.failing_resources == previous:
            continue  # most summaries repeat the last verdict: nothing fixed or failing anew
        current = set(item.failing_resources)
        for resource in set(previous) - current:
            triple = (*key, resource)
            since.pop(triple, None)
            fixed.add(triple)
        for resource in current.difference(previous):
            triple = (*key, resource)
            since[triple] = (item.collected_at, item.collected_at <= start)
            if triple in fixed and item.collected_at > start:
                count, _ = refailed.get(triple, (0, item.collected_at))
                refailed[triple] = (count + 1, item.collected_at)
        failing_now[key] = item.failing_resources
    open_findings = [
        FindingAge(check, target, resource, when, before)
        for (check, target, resource), (when, before) in sorted(since.items())
    ]
    recurring = [
        Recurrence(check, target, resource, count, last)
        for (check, target, resource), (count, last) in sorted(refailed.items())
    ]
    return open_findings, recurring


def expiring_manual(
    items: Iterable[ManualEvidence], now: datetime, within: timedelta
) -> list[ManualEvidence]:
    """The current manual items (one per control) that expire in ``(now, now + within]``."""
    return [i for i in current_items(items, now) if now < i.valid_until <= now + within]
