"""One Celery task: co-due (check, target) jobs of one account, judged over one snapshot memo.

A job's key is ``check@target@slot`` (the slot is the time the leader scheduled it, ISO 8601
UTC). The store keeps one record per job key (``EvidenceStore.append_jobs``), so a task
delivered twice, or published again, still stores each job once; the batch's records are
appended in one transaction, so a worker killed mid-task leaves none of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from collector.accounts import Account
from collector.clock import utcnow
from collector.collect import Target
from collector.daemon.jobs import DaemonJob
from collector.registry import Registry
from collector.runner import error_evidence, evaluate_job, timeout_evidence
from collector.snapshots import SnapshotCache
from storage import NewEvidence


def job_key(key: str, slot: datetime) -> str:
    """``check@target@slot``: one scheduled collection of one (check, target)."""
    return f"{key}@{slot.isoformat(timespec='microseconds')}"


@dataclass(frozen=True)
class Batch:
    """What one task carries; ``jobs`` are (``check@target``, job key) pairs."""

    run_id: str
    provider: str
    account: str
    jobs: tuple[tuple[str, str], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "provider": self.provider,
            "account": self.account,
            "jobs": [list(pair) for pair in self.jobs],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Batch:
        return cls(
            run_id=str(data["run_id"]),
            provider=str(data["provider"]),
            account=str(data["account"]),
            jobs=tuple((str(k), str(j)) for k, j in data["jobs"]),
        )


def collect_batch(
    batch: Batch,
    jobs: Mapping[str, DaemonJob],
    registry: Registry,
    *,
    time_limit: float,
    concurrency: int = 4,
    clock: Callable[[], datetime] = utcnow,
) -> list[tuple[str, NewEvidence]]:
    """(job key, evidence) for every job of ``batch``: judged over one snapshot memo per
    account (co-due checks share each fetch); ERROR for a job still running after
    ``time_limit`` seconds or unknown to this worker's configuration."""
    known = [(key, jk, jobs[key]) for key, jk in batch.jobs if key in jobs]
    parts = registry.parts_needed(j.job.check for _, _, j in known)
    caches: dict[int, SnapshotCache | None] = {}

    def cache_for(account: Account) -> SnapshotCache | None:
        if id(account) not in caches:
            caches[id(account)] = (
                SnapshotCache(registry.collectors, account.make_scope, parts)
                if account.make_scope is not None
                else None
            )
        return caches[id(account)]

    results: list[tuple[str, NewEvidence]] = []
    for key, jk in batch.jobs:
        if key not in jobs:
            unknown = _unknown_job(key, batch.run_id, registry, clock())
            if unknown is not None:
                results.append((jk, unknown))
    if not known:
        return results
    pool = ThreadPoolExecutor(max(1, min(concurrency, len(known))), "annexa-task")
    try:
        futures = [
            (
                jk,
                job,
                pool.submit(
                    evaluate_job,
                    job.job,
                    cache_for(job.job.account),
                    batch.run_id,
                    clock,
                    cache_for,
                ),
            )
            for _, jk, job in known
        ]
        deadline = time.monotonic() + time_limit
        for jk, job, future in futures:
            try:
                evidence = future.result(timeout=max(0.0, deadline - time.monotonic()))
            except FuturesTimeout:
                evidence = timeout_evidence(job.job, batch.run_id, time_limit, clock())
            results.append((jk, evidence))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)  # a timed-out fetch is abandoned
    return results


def _unknown_job(key: str, run_id: str, registry: Registry, at: datetime) -> NewEvidence | None:
    """The ERROR record of a job this worker's configuration does not plan (its config or
    accounts differ from the leader's); None when not even the check is known here."""
    check_id, _, target_key = key.partition("@")
    spec = registry.checks.get(check_id)
    if spec is None:
        return None
    provider, _, rest = target_key.partition(":")
    account, _, region = rest.partition(":")
    cause = (
        f"this worker plans no job {key}: its configuration or accounts differ from the leader's"
    )
    return error_evidence(spec, Target(provider, account, region or None), run_id, cause, at)
