"""The runner: evaluate checks over targets concurrently and store one sealed record each.

Each (check, target) job is isolated: an exception, a denied permission or a timeout becomes an
ERROR record naming the cause, never a pass and never the end of the run. Snapshots are
fetched once per run and target (see :class:`SnapshotCache`). Each record is committed as soon
as it is judged, so a killed run keeps everything it stored.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog

from checks.api import CheckSpec, Finding
from collector.accounts import Account
from collector.causes import describe_error
from collector.clock import utcnow
from collector.collect import Target
from collector.redact import redact, redact_text
from collector.registry import Registry
from collector.snapshots import SnapshotCache
from storage import EvidenceRecord, EvidenceStore, NewEvidence

log = structlog.get_logger("annexa.runner")


@dataclass(frozen=True)
class Job:
    check: CheckSpec
    target: Target
    account: Account


@dataclass
class RunResult:
    run_id: str
    outcome: str
    started_at: datetime
    finished_at: datetime
    records: list[EvidenceRecord] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        """Records per evidence status (pass, fail, error, not_applicable)."""
        return Counter(r.status for r in self.records)


def plan(checks: Sequence[CheckSpec], accounts: Sequence[Account], registry: Registry) -> list[Job]:
    """Every (check, target) job: account-wide checks once per account, regional ones per region."""
    jobs = []
    for account in accounts:
        for spec in checks:
            if spec.provider == account.provider:
                for target in account.targets(registry.scope_of(spec)):
                    jobs.append(Job(spec, target, account))
    return jobs


def judge(
    spec: CheckSpec,
    target: Target,
    fetch: Callable[[type], object],
    run_id: str,
    clock: Callable[[], datetime] = utcnow,
) -> NewEvidence:
    """Fetch a check's snapshots, evaluate it, and shape the evidence (ERROR on any failure)."""
    try:
        snapshots = {kind: fetch(kind) for kind in spec.inputs}
        collected_at = clock()
        findings = spec.evaluate(snapshots)  # type: ignore[arg-type]
    except Exception as exc:
        return error_evidence(spec, target, run_id, describe_error(exc), clock())
    observations = redact(
        {kind.__name__: s.model_dump(mode="json") for kind, s in snapshots.items()}
    )
    return _evidence(
        spec,
        target,
        run_id,
        collected_at=collected_at,
        status=_status(findings),
        summary=_summary(findings, spec.inputs[0].resource_noun),
        findings=[
            {"resource": f.resource, "passed": f.passed, "message": redact_text(f.message)}
            for f in findings
        ],
        observations=observations,
    )


def evaluate_job(
    job: Job, cache: SnapshotCache | None, run_id: str, clock: Callable[[], datetime] = utcnow
) -> NewEvidence:
    """One job's evidence: its account's resolution error, else its judged snapshots from
    ``cache`` (the memo its account's snapshots are fetched through)."""
    if job.account.error is not None or cache is None:
        cause = job.account.error or f"no way to collect from {job.target}"
        return error_evidence(job.check, job.target, run_id, cause, clock())
    return judge(job.check, job.target, lambda kind: cache.get(kind, job.target), run_id, clock)


def timeout_evidence(job: Job, run_id: str, timeout: float, at: datetime) -> NewEvidence:
    """The ERROR record of a job that outlived its time limit."""
    return error_evidence(job.check, job.target, run_id, f"timed out after {timeout:g} s", at)


def error_evidence(
    spec: CheckSpec, target: Target, run_id: str, cause: str, at: datetime
) -> NewEvidence:
    """The record of a check that could not be evaluated: status error, with its cause."""
    return _evidence(
        spec,
        target,
        run_id,
        collected_at=at,
        status="error",
        summary=f"error: {cause}",
        findings=[],
        observations={},
        error=cause,
    )


def _evidence(spec: CheckSpec, target: Target, run_id: str, **fields: Any) -> NewEvidence:
    return NewEvidence(
        run_id=run_id,
        check_id=spec.id,
        check_version=spec.version,
        provider=target.provider,
        account=target.account,
        region=target.region,
        **fields,
    )


def _status(findings: list[Finding]) -> str:
    if not findings:
        return "not_applicable"
    return "fail" if any(not f.passed for f in findings) else "pass"


def _summary(findings: list[Finding], noun: str) -> str:
    failed = sum(not f.passed for f in findings)
    if not findings:
        return f"0 {noun}"
    if failed:
        return f"{failed} of {len(findings)} {noun} failing"
    return f"{len(findings)} {noun}, all passing"


class Runner:
    """Runs checks over accounts into an evidence store, one run at a time."""

    def __init__(
        self,
        registry: Registry,
        store: EvidenceStore,
        *,
        concurrency: int = 8,
        timeout: float = 300.0,
        clock: Callable[[], datetime] = utcnow,
        on_plan: Callable[[int], None] | None = None,
        on_record: Callable[[EvidenceRecord], None] | None = None,
    ) -> None:
        self.registry = registry
        self.store = store
        self.concurrency = concurrency
        self.timeout = timeout
        self.clock = clock
        self.on_plan = on_plan
        self.on_record = on_record
        self._write_lock = threading.Lock()

    def run(
        self, checks: Iterable[CheckSpec], accounts: Sequence[Account], *, trigger: str = "cli"
    ) -> RunResult:
        """Run ``checks`` over ``accounts``; returns what was stored. Never raises for a check."""
        jobs = plan(list(checks), accounts, self.registry)
        if self.on_plan:
            self.on_plan(len(jobs))
        started = self.clock()
        run_id = self.store.start_run(started_at=started, trigger=trigger, planned=len(jobs))
        result = RunResult(run_id, "running", started, started)
        log.info("run started", run_id=run_id, jobs=len(jobs), trigger=trigger)
        try:
            self._execute(jobs, accounts, result)
        except BaseException:
            result.outcome = "interrupted"
            raise
        else:
            result.outcome = "partial" if result.counts()["error"] else "complete"
        finally:
            result.finished_at = self.clock()
            self.store.finish_run(run_id, finished_at=result.finished_at, outcome=result.outcome)
            log.info(
                "run finished",
                run_id=run_id,
                outcome=result.outcome,
                records=len(result.records),
                **dict(result.counts()),
            )
        return result

    def _execute(self, jobs: list[Job], accounts: Sequence[Account], result: RunResult) -> None:
        caches = {
            id(a): SnapshotCache(self.registry.collectors, a.make_scope)
            for a in accounts
            if a.make_scope is not None
        }
        settled: set[int] = set()
        started: dict[int, float] = {}
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="annexa-check")

        def settle(index: int, evidence: NewEvidence) -> None:
            with self._write_lock:
                if index in settled:
                    return  # already recorded as timed out
                settled.add(index)
                record = self.store.append(evidence)
                result.records.append(record)
            log.debug(
                "evidence stored",
                check=record.check_id,
                target=record.target_key,
                status=record.status,
            )
            if self.on_record:
                self.on_record(record)

        def work(index: int, job: Job) -> None:
            started[index] = time.monotonic()
            settle(index, evaluate_job(job, caches.get(id(job.account)), result.run_id, self.clock))

        futures: dict[Future[None], int] = {
            pool.submit(work, i, job): i for i, job in enumerate(jobs)
        }
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()  # a failure here is a store failure: let it end the run
                now = time.monotonic()
                for future in list(pending):
                    index = futures[future]
                    began = started.get(index)
                    if began is not None and now - began > self.timeout:
                        settle(
                            index,
                            timeout_evidence(
                                jobs[index], result.run_id, self.timeout, self.clock()
                            ),
                        )
                        pending.discard(future)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
