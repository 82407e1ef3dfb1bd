"""The daemon's jobs: one per (check, target), each with its interval and first run time.

Intervals: a per-check override in ``schedule.intervals``, else the shortest override among
the controls the check maps to, else the check's own default. At start each job is due at
its last collection plus its interval; overdue jobs are spread over a short window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from checks.api import CheckSpec
from collector.accounts import Account
from collector.mapping import Mapping as CheckMapping
from collector.registry import Registry
from collector.runner import Job, plan
from collector.settings import ScheduleSettings
from collector.snapshots import SnapshotCache
from storage import EvidenceSummary


@dataclass(frozen=True)
class DaemonJob:
    """One scheduled (check, target) and how often it runs."""

    job: Job
    interval: timedelta

    @property
    def key(self) -> str:
        """``check_id@target_key``: the scheduler's job id and the evidence's identity."""
        return f"{self.job.check.id}@{self.job.target.key}"

    @property
    def check_id(self) -> str:
        return self.job.check.id


def interval_for(spec: CheckSpec, mapping: CheckMapping, schedule: ScheduleSettings) -> timedelta:
    """The check's interval: its own override, else its controls' shortest, else its default."""
    overrides = schedule.intervals
    if spec.id in overrides:
        return overrides[spec.id]
    by_control = [overrides[c] for c in mapping.controls_for(spec.id) if c in overrides]
    return min(by_control, default=spec.interval)


def plan_jobs(
    checks: Sequence[CheckSpec],
    accounts: Sequence[Account],
    registry: Registry,
    mapping: CheckMapping,
    schedule: ScheduleSettings,
) -> dict[str, DaemonJob]:
    """Every (check, target) job of ``checks`` over ``accounts``, by key."""
    intervals = {c.id: interval_for(c, mapping, schedule) for c in checks}
    jobs = (DaemonJob(job, intervals[job.check.id]) for job in plan(checks, accounts, registry))
    return {j.key: j for j in jobs}


def first_runs(
    jobs: Iterable[DaemonJob],
    latest: Iterable[EvidenceSummary],
    now: datetime,
    stagger: timedelta,
) -> dict[str, datetime]:
    """When each job first runs: last collection plus interval, or (overdue, never run) now,
    spread evenly over ``stagger`` (at most half the shortest overdue interval)."""
    collected = {f"{s.check_id}@{s.target_key}": s.collected_at for s in latest}
    runs: dict[str, datetime] = {}
    overdue: list[DaemonJob] = []
    for job in sorted(jobs, key=lambda j: j.key):
        last = collected.get(job.key)
        if last is not None and last + job.interval > now:
            runs[job.key] = last + job.interval
        else:
            overdue.append(job)
    if overdue:
        window = min(stagger, min(j.interval for j in overdue) / 2)
        step = window / len(overdue)
        for index, job in enumerate(overdue):
            runs[job.key] = now + step * index
    return runs


def snapshot_ttl(intervals: Iterable[timedelta], schedule: ScheduleSettings) -> float:
    """Seconds a fetched snapshot serves co-due jobs: long enough to cover the jitter and
    start-up stagger, at most half the shortest interval (so every run sees a new fetch)."""
    shortest = min(intervals, default=timedelta(hours=1))
    wanted = max(schedule.jitter, schedule.stagger, timedelta(seconds=1))
    return min(wanted, shortest / 2).total_seconds()


class SnapshotGenerations:
    """Per-account :class:`SnapshotCache` renewed every ``ttl`` seconds.

    Jobs on one account that fall due within one generation share each fetch, keeping "one
    API call per (target, operation) per collection" true for co-due checks; a job due later
    gets a fresh generation, so no evidence rests on a snapshot older than ``ttl``.
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._current: dict[str, tuple[float, SnapshotCache]] = {}

    def cache_for(self, account: Account, collectors: Mapping) -> SnapshotCache | None:
        if account.make_scope is None:
            return None
        key = f"{account.provider}:{account.account}"
        now = self._clock()
        with self._lock:
            born, cache = self._current.get(key, (float("-inf"), None))
            if cache is None or now - born >= self.ttl:
                cache = SnapshotCache(collectors, account.make_scope)
                self._current[key] = (now, cache)
            return cache


def cause_class(cause: str) -> str:
    """A short class for an ERROR cause (a metric label): the cause text itself varies."""
    text = cause.lower()
    for label, marks in _CAUSE_CLASSES:
        if any(m in text for m in marks):
            return label
    return "other"


_CAUSE_CLASSES = (
    ("timeout", ("timed out",)),
    ("denied", ("access denied", "forbidden", "403")),
    ("throttled", ("throttled", "429", "rate exceeded")),
    ("credentials", ("credentials",)),
    ("unreachable", ("unreachable", "failed:", "could not connect")),
    ("interrupted", ("interrupted",)),
)
