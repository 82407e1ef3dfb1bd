"""Continuity: for each control and a period ``[start, end)``, the share of time it had fresh
passing evidence (PASSING or ATTESTED) and every gap with its cause (an accepted risk is a
gap with cause ``accepted``: the control was not shown to operate, its failure was accepted).

A pure function of the evidence timeline (``EvidenceStore.timeline``: the latest evidence at
``start``, then one summary per record), the manual items and exceptions (their whole history),
catalogue, SoA, mapping, scope and check intervals. The control's state at each instant is the
one ``evaluate`` would give at that instant (both use ``status.combine``), so the two never
disagree: a staleness gap opens at
``last conclusive + max age``, an exception covers failing findings from its creation until its
expiry or revocation. A gap is a maximal interval with one cause; consecutive gaps with
different causes are listed separately. Causes: ``failing``, ``stale``, ``error``,
``accepted``, ``no_evidence`` (also a control that needs manual evidence and has none valid).
Callers clip the period at ``now`` (``collector.audit.clip_period``): time after now is never
counted.

Memory: ``compress`` run-length compresses a timeline per (check, target) without changing any
state ``continuity`` derives from it, so a period of any length costs memory in proportion to
its state changes, not its records (``collector.audit.period_continuity`` reads the store this
way for ``status --from/--to`` and the export alike).
"""

from __future__ import annotations

import collections.abc as cabc
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from collector.applicability import Applicability
from collector.catalogue import Catalogue, Control
from collector.manual import governing
from collector.mapping import Mapping, Strength
from collector.soa import Soa
from collector.status import (
    GOOD_STATES,
    ControlState,
    Scope,
    attestation_state,
    combine,
    evidence_state,
    max_age_for,
)
from storage.records import EvidenceSummary, ManualEvidence, RiskException
from storage.runs import collapse_runs, run_key

__all__ = ["Continuity", "Gap", "compress", "continuity", "per_pair", "tightest_max_ages"]

_JUST_AFTER = timedelta(microseconds=1)  # states hold on [t, next): judged just after t
_DAWN = datetime.min.replace(tzinfo=UTC)  # a (check, target)'s timeline starts here
_CAUSE = {
    ControlState.FAILING: "failing",
    ControlState.ERROR: "error",
    ControlState.STALE: "stale",
    ControlState.NO_EVIDENCE: "no_evidence",
    ControlState.MANUAL: "no_evidence",
    ControlState.ACCEPTED: "accepted",
}


@dataclass(frozen=True)
class Gap:
    """An interval ``[start, end)`` without fresh passing evidence, and why."""

    start: datetime
    end: datetime
    cause: str  # failing | stale | error | accepted | no_evidence


@dataclass(frozen=True)
class Continuity:
    """One control over a period: share of time with fresh passing evidence, and the gaps.

    ``share`` is None for a control excluded for the whole period (not evaluated), else the
    share of the time it was applicable. ``timeline`` holds the control's state from each
    instant on, the first at the period's start (empty when excluded throughout;
    ``not_applicable`` while excluded); clause 9.1 measures (``collector.measures``) are
    derived from it.
    """

    control: Control
    share: float | None
    gaps: tuple[Gap, ...]
    timeline: tuple[tuple[datetime, ControlState | None], ...] = ()


Changes = list[tuple[datetime, ControlState | None]]  # state from each instant on


def continuity(
    catalogue: Catalogue,
    soa: Soa | None,
    mapping: Mapping,
    history: Iterable[EvidenceSummary],
    intervals: cabc.Mapping[str, timedelta],
    start: datetime,
    end: datetime,
    *,
    scope: Scope | None = None,
    manual: Iterable[ManualEvidence] = (),
    exceptions: Iterable[RiskException] = (),
    stale_factor: float = 2.0,
    applicable: cabc.Mapping[str, Applicability] | None = None,
    memo: dict[object, Any] | None = None,
) -> list[Continuity]:
    """Continuity of every catalogue control over ``[start, end)``, in catalogue order, over
    ``scope`` (None: every mapped check counts; a target outside it counts until it retired).
    ``applicable`` corrects the SoA for the controls whose applicability changed
    (``collector.applicability``): their time excluded is ``not_applicable`` in the timeline
    and counts toward neither the share nor a gap.

    ``history`` may reach before ``start`` and past ``end`` (a review's longer read, the web
    console's read of all time): each (check, target)'s and each control's state changes are
    worked out over all of it, then cut to the period. ``memo``: those changes, kept by the
    caller for the same ``history`` or one extended from it (the web console's cached read),
    so that another period is only a cut: keyed by everything they depend on (the pair's
    events by their number and newest, maximum age, the check's exceptions, the target's
    retirement; for a control, its pairs' keys, strengths and manual evidence).

    Raises ValueError when the period is empty or inverted.
    """
    if end <= start:
        raise ValueError(
            f"empty or inverted period: from {start.isoformat()} is not before {end.isoformat()}"
        )
    memo = {} if memo is None else memo
    grouped = memo.get(_GROUPED)
    if grouped is None or grouped[0] is not history:
        grouped = memo[_GROUPED] = (history, per_pair(history))
    ends: dict[tuple[str, str], datetime | None] = {}  # None: counts throughout
    targets: dict[str, list[str]] = {}
    for key in sorted(grouped[1]):
        ends[key] = until = None if scope is None else scope.counted_until(*key)
        if until is None or until > start:
            targets.setdefault(key[0], []).append(key[1])
    items: dict[str, list[ManualEvidence]] = {}
    for manual_item in manual:
        items.setdefault(manual_item.control_id, []).append(manual_item)
    known = tuple(exceptions)
    period = (start, end)
    relevant = {c: tuple(e for e in known if e.check_id == c) for c in {e.check_id for e in known}}

    used: dict[tuple, Changes] = {}  # this call's pair changes (another may replace the memo's)

    def key_changes(check_id: str, target_key: str, max_age: timedelta | None) -> tuple:
        """The memo's key of the pair's changes, which are then in ``used``."""
        key = (check_id, target_key)
        events, mine, until = grouped[1][key], relevant.get(check_id, ()), ends[key]
        memo_key = (key, max_age, mine, until, len(events), events[-1])
        changes = memo.get(memo_key)
        if changes is None:
            changes = _key_changes(events, max_age, mine)
            if until is not None:  # a removed target: gone from then on
                changes = [c for c in changes if c[0] < until] + [(until, None)]
            _replace(memo, memo_key[:4], memo_key, changes)
        used[memo_key] = changes
        return memo_key

    results = []
    for control in catalogue.controls:
        entry = soa.entry(control.id) if soa is not None else None
        changed = (applicable or {}).get(control.id)
        windows = changed.windows(start, end) if changed is not None else None
        if (
            not any(a for _, a in windows)
            if windows is not None
            else entry is not None and not entry.applicable
        ):
            results.append(Continuity(control, None, ()))
            continue
        checks = [c for c in mapping.checks_for(control.id) if scope is None or c in scope.checks]
        manual_changes = _manual_changes(items.get(control.id, []))
        if checks:
            per_check = tuple(
                (
                    mapping.pair(c, control.id).strength,
                    tuple(
                        key_changes(c, t, max_age_for(c, entry, intervals, stale_factor))
                        for t in targets.get(c, ())
                    ),
                )
                for c in checks
            )
            control_key = (control.id, per_check, tuple(manual_changes))
            changes = memo.get(control_key)
            if changes is None:
                keyed = [(strength, [used[k] for k in keys]) for strength, keys in per_check]
                changes = _control_changes(keyed, manual_changes)
                _replace(memo, control.id, control_key, changes)
        else:
            changes = manual_changes
        changes = _clip(changes, start, end)
        if windows is not None:
            changes = _within(changes, windows)
        results.append(_summarise(control, changes, period))
    return results


_GROUPED = "history by (check, target)"  # the memo's entry for the history it was given


def _replace(memo: dict[object, Any], slot: object, key: tuple, changes: Changes) -> None:
    """Keep ``changes`` under ``key`` in place of what ``slot`` (one pair or control, the rest
    of its key the same) held before: an extended history leaves no stale entries behind."""
    memo.pop(memo.get(("in", slot)), None)
    memo[("in", slot)] = key
    memo[key] = changes


def per_pair(history: Iterable[EvidenceSummary]) -> dict[tuple[str, str], list[EvidenceSummary]]:
    """A timeline per (check, target), each oldest first."""
    found: dict[tuple[str, str], list[EvidenceSummary]] = {}
    for item in history:
        found.setdefault((item.check_id, item.target_key), []).append(item)
    for events in found.values():
        events.sort(key=_collected)
    return found


def _collected(item: EvidenceSummary) -> datetime:
    return item.collected_at


def _clip(changes: Changes, start: datetime, end: datetime) -> Changes:
    """A timeline that starts before ``start`` cut to ``[start, end)``: the state at ``start``
    (None before the first change), then every change inside."""
    first = bisect_right(changes, start, key=_when)
    clipped: Changes = [(start, changes[first - 1][1] if first else None)]
    for change in changes[first:]:
        if change[0] >= end:
            break
        clipped.append(change)
    return clipped


def _when(change: tuple[datetime, ControlState | None]) -> datetime:
    return change[0]


def _within(changes: Changes, windows: list[tuple[datetime, bool]]) -> Changes:
    """A control's timeline with ``not_applicable`` wherever ``windows`` says it was not."""
    found: Changes = []
    state, applies, i, j = None, True, 0, 0
    for point in sorted({when for when, _ in changes} | {when for when, _ in windows}):
        while i < len(changes) and changes[i][0] <= point:
            state, i = changes[i][1], i + 1
        while j < len(windows) and windows[j][0] <= point:
            applies, j = windows[j][1], j + 1
        current = state if applies else ControlState.NOT_APPLICABLE
        if not found or found[-1][1] is not current:
            found.append((point, current))
    return found


def _key_changes(
    events: Sequence[EvidenceSummary],
    max_age: timedelta | None,
    exceptions: tuple[RiskException, ...],
) -> Changes:
    """When one (check, target)'s state changes, over all the time ``events`` span and after
    (None before the first): ``_clip`` cuts it to a period."""
    points = {e.collected_at for e in events}
    if max_age is not None:  # when each goes stale, while still the newest (later: no change)
        for e, later in zip(events, [*events[1:], None], strict=True):
            lapse = e.last_conclusive_at
            if lapse is not None and (later is None or lapse + max_age < later.collected_at):
                points.add(lapse + max_age)
    for exception in exceptions:
        points |= {exception.created_at, exception.expires_at}
        if exception.revoked_at is not None:
            points.add(exception.revoked_at)
    changes: Changes = [(_DAWN, None)]
    index = -1
    for point in sorted(points):
        while index + 1 < len(events) and events[index + 1].collected_at <= point:
            index += 1
        state = (
            None
            if index < 0
            else evidence_state(events[index], max_age, point + _JUST_AFTER, exceptions)
        )
        if state is not changes[-1][1]:
            changes.append((point, state))
    return changes


def _control_changes(per_check: list[tuple[Strength, list[Changes]]], manual: Changes) -> Changes:
    """Merge the (check, target) timelines of one control, each check with its pair's strength,
    and its manual evidence timeline into the control's timeline (``status.combine``), over all
    time."""
    pending = sorted(
        [
            (when, check, target, state)
            for check, (_, target_changes) in enumerate(per_check)
            for target, changes in enumerate(target_changes)
            for when, state in changes
        ]
        + [(when, -1, 0, state) for when, state in manual],
        key=lambda change: change[0],
    )
    states: dict[tuple[int, int], ControlState] = {}
    counts: Counter[tuple[ControlState, Strength]] = Counter()
    started: Counter[int] = Counter()  # per check, its targets with a state
    checks_started = 0  # checks with any
    manual_state = ControlState.MANUAL
    changes: Changes = []
    i = 0
    while True:
        when = pending[i][0] if i < len(pending) else None
        while i < len(pending) and pending[i][0] == when:
            _, check, target, state = pending[i]
            i += 1
            if check < 0:
                manual_state = state or ControlState.MANUAL
                continue
            strength = per_check[check][0]
            old = states.pop((check, target), None)
            if old is not None:
                counts[(old, strength)] -= 1
                started[check] -= 1
                checks_started -= not started[check]
            if state is not None:
                states[(check, target)] = state
                counts[(state, strength)] += 1
                started[check] += 1
                checks_started += started[check] == 1
        present = {key for key, n in counts.items() if n > 0}
        missing = checks_started < len(per_check)
        worst = combine(present, missing=missing, manual=manual_state)
        point = _DAWN if when is None else when
        if not changes or worst is not changes[-1][1]:
            changes.append((point, worst))
        if i >= len(pending):
            return changes


def _manual_changes(items: list[ManualEvidence]) -> Changes:
    """A control's attestation state over all time."""
    points = {t for i in items for t in (i.uploaded_at, i.valid_from, i.valid_until)}
    changes: Changes = []
    for point in [_DAWN, *sorted(points)]:
        at = point + _JUST_AFTER
        state = attestation_state(governing(items, at), at)
        if not changes or state is not changes[-1][1]:
            changes.append((point, state))
    return changes


def _summarise(control: Control, changes: Changes, period: tuple[datetime, datetime]) -> Continuity:
    start, end = period
    good = excluded = timedelta(0)
    gaps: list[Gap] = []
    bounds = [when for when, _ in changes[1:]] + [end]
    for (when, state), until in zip(changes, bounds, strict=True):
        if state in GOOD_STATES:
            good += until - when
            continue
        if state is ControlState.NOT_APPLICABLE:
            excluded += until - when
            continue
        cause = _CAUSE[state] if state is not None else "no_evidence"
        if gaps and gaps[-1].cause == cause and gaps[-1].end == when:
            gaps[-1] = Gap(gaps[-1].start, until, cause)
        else:
            gaps.append(Gap(when, until, cause))
    return Continuity(control, good / (end - start - excluded), tuple(gaps), tuple(changes))


# -- bounded input: the run-length compressed timeline ----------------------------------------


def tightest_max_ages(
    soa: Soa | None,
    mapping: Mapping,
    intervals: cabc.Mapping[str, timedelta],
    stale_factor: float = 2.0,
    also: cabc.Collection[str] = (),
) -> dict[str, timedelta | None]:
    """Per mapped check, the smallest maximum evidence age over the controls it maps to that
    the SoA does not exclude, or that are in ``also`` (applicable at some other time); None:
    never stale. What ``compress`` needs."""
    ages: dict[str, timedelta | None] = {}
    for check, control, _ in mapping.pairs():
        entry = soa.entry(control) if soa is not None else None
        if entry is not None and not entry.applicable and control not in also:
            continue
        age = max_age_for(check, entry, intervals, stale_factor)
        if age is not None:
            known = ages.get(check)
            ages[check] = age if known is None else min(known, age)
        else:
            ages.setdefault(check, None)
    return ages


def compress(
    history: Iterable[EvidenceSummary], max_ages: cabc.Mapping[str, timedelta | None]
) -> Iterator[EvidenceSummary]:
    """The timeline run-length compressed per (check, target); ``max_ages`` holds each check's
    tightest maximum age (``tightest_max_ages``).

    Consecutive summaries of one (check, target) with the same verdict (status, failing
    resources, and for errors the same last conclusive time) collapse into the first one,
    carrying the last one's ``last_conclusive_at``, as long as each follows the previous within
    the check's maximum age (so no staleness gap opened between them). Staleness is judged on
    ``last_conclusive_at`` alone, so the collapsed summary gives the same state at every instant,
    for this maximum age and any longer one. The rule is ``storage.runs.collapse_runs``, the one
    ``EvidenceStore.timeline(max_ages=...)`` applies while reading.
    """
    pairs = ((item, run_key(item)) for item in history)
    for head, last_conclusive in collapse_runs(pairs, max_ages):
        if head.last_conclusive_at == last_conclusive:
            yield head
        else:
            yield replace(head, last_conclusive_at=last_conclusive)
