"""The runner: evaluate checks over targets concurrently and store one sealed record each.

Each (check, target) job is isolated: an exception, a denied permission or a timeout becomes an
ERROR record naming the cause, never a pass and never the end of the run. Snapshots are
fetched once per run and target (see :class:`SnapshotCache`). A cross-provider check's
``Across`` inputs are read through the same memo of every account they come from; one failed
input makes the whole check ERROR naming it, never a partial verdict. Each record is committed
as soon as it is judged, so a killed run keeps everything it stored.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from checks.api import Across, CheckSpec, Finding, Snapshot
from collector.accounts import Account, collected_by
from collector.causes import describe_error
from collector.clock import utcnow
from collector.collect import Target
from collector.logs import get_logger
from collector.malloc import fix_mmap_threshold, limit_arenas
from collector.redact import redact, redact_text
from collector.registry import Registry
from collector.snapshots import SnapshotCache
from collector.version import annexa_version
from storage import EvidenceRecord, EvidenceStore, NewEvidence

log = get_logger("annexa.runner")


#: The snapshot memo of an account (``None``: the account cannot be collected from).
CacheFor = Callable[[Account], SnapshotCache | None]


@dataclass(frozen=True)
class Source:
    """Where one cross-provider input is read: a snapshot kind at one target of an account."""

    kind: type[Snapshot]
    account: Account
    target: Target


@dataclass(frozen=True)
class Job:
    check: CheckSpec
    target: Target
    account: Account
    #: a cross-provider check's inputs: every target of each ``Across`` kind's provider
    sources: tuple[Source, ...] = ()


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


def run_outcome(statuses: Iterable[str]) -> str:
    """The outcome of a run that ended normally, from its records' statuses (one rule for
    ``run`` and the daemon): ``failed`` when it stored records and every one is an ERROR,
    ``partial`` when some are, else ``complete``."""
    counts = Counter(statuses)
    if counts["error"] and counts["error"] == sum(counts.values()):
        return "failed"
    return "partial" if counts["error"] else "complete"


def plan(checks: Sequence[CheckSpec], accounts: Sequence[Account], registry: Registry) -> list[Job]:
    """Every (check, target) job: account-wide checks once per account, regional ones per region;
    a cross-provider check also lists where each of its ``Across`` inputs is read."""
    jobs = []
    for account in accounts:
        for spec in checks:
            if spec.provider == account.provider:
                sources = tuple(
                    Source(kind, peer, target)
                    for kind in sorted(spec.across, key=lambda k: k.__name__)
                    for peer in accounts
                    if peer.provider == kind.provider
                    for target in peer.targets(registry.collectors[kind].scope)
                )
                for target in account.targets(registry.scope_of(spec)):
                    jobs.append(Job(spec, target, account, sources))
    return jobs


def schedule(jobs: Iterable[Job], registry: Registry) -> list[Job]:
    """Jobs in the order they start: first one job per snapshot still to fetch, those whose
    collectors fan out per resource (the longest fetches) first; then the jobs that reuse
    snapshots already fetched. No worker then waits on a fetch in flight while other fetches
    could start, and the slowest fetches overlap everything else."""

    def fans_out(job: Job) -> bool:
        return any(registry.collectors[kind].fan_out for kind in job.check.inputs)

    claimed: set[tuple[type[Snapshot], Target]] = set()
    fetching: list[Job] = []
    reusing: list[Job] = []
    for job in sorted(jobs, key=lambda j: not fans_out(j)):  # stable: plan order otherwise
        keys = {(kind, _memo_target(registry, kind, job.target)) for kind in job.check.inputs}
        (reusing if keys <= claimed else fetching).append(job)
        claimed |= keys
    return fetching + reusing


def _memo_target(registry: Registry, kind: type[Snapshot], target: Target) -> Target:
    """The target a snapshot is fetched for (account-wide snapshots: no region)."""
    return replace(target, region=None) if registry.collectors[kind].scope == "account" else target


class InputFailed(Exception):
    """A cross-provider input could not be read; the message names it and the cause."""


def gather(sources: Iterable[Source], cache_for: CacheFor) -> dict[type[Snapshot], Across[Any]]:
    """Each cross-provider input as an :class:`Across`; :class:`InputFailed` on the first
    input that cannot be read (an unresolved account, a failed fetch)."""
    found: dict[type[Snapshot], dict[str, Snapshot]] = {}
    for source in sources:
        found.setdefault(source.kind, {})
        where = f"input {source.kind.__name__} from {source.target}"
        cache = None if source.account.error else cache_for(source.account)
        if cache is None:
            cause = source.account.error or "no way to collect from it"
            raise InputFailed(f"{where} failed: {cause}")
        try:
            found[source.kind][source.target.key] = cache.get(source.kind, source.target)
        except Exception as exc:
            raise InputFailed(f"{where} failed: {describe_error(exc)}") from None
    return {kind: Across(kind, by_target) for kind, by_target in found.items()}


def judge(
    spec: CheckSpec,
    target: Target,
    fetch: Callable[[type], object],
    run_id: str,
    clock: Callable[[], datetime] = utcnow,
    across: Callable[[], dict[type[Snapshot], Across[Any]]] = dict,
    observe: Callable[[str, object], Any] | None = None,
) -> NewEvidence:
    """Fetch a check's snapshots (``across()`` gives its cross-provider inputs), evaluate it,
    and shape the evidence (ERROR on any failure, recording its observations included).
    ``observe(name, snapshot)`` gives an input's observations (default: :func:`observation`;
    a run shares them through :class:`Observations`)."""
    try:
        spread = across() if spec.across else {}
        snapshots = {kind: fetch(kind) for kind in spec.own_inputs}
        snapshots |= {kind: spread.get(kind, Across(kind)) for kind in spec.across}
        collected_at = clock()
        findings = spec.evaluate(snapshots)  # type: ignore[arg-type]
    except InputFailed as exc:
        return error_evidence(spec, target, run_id, str(exc), clock())
    except Exception as exc:
        return error_evidence(spec, target, run_id, describe_error(exc), clock())
    observe = observe or observation
    observations: dict[str, Any] = {}
    for kind, snapshot in snapshots.items():
        try:
            observations[kind.__name__] = observe(kind.__name__, snapshot)
        except Exception as exc:  # a verdict without its proof is no evidence
            cause = f"observations of {kind.__name__} could not be recorded: {describe_error(exc)}"
            return error_evidence(spec, target, run_id, cause, clock())
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


def observation(name: str, snapshot: object) -> Any:
    """The observations of one input named ``name``: its JSON form, secrets redacted (the name
    too is judged as a key, as in any observed mapping)."""
    if isinstance(snapshot, Across):
        dumped: Any = {key: s.model_dump(mode="json") for key, s in snapshot.items()}
    else:
        assert isinstance(snapshot, Snapshot)
        dumped = snapshot.model_dump(mode="json")
    return redact({name: dumped})[name]


class Observations:
    """Each snapshot's observations made once per run and shared by every record judged on
    it: a run's S3 checks all read one bucket snapshot, and holding a copy per record made
    the run's memory grow with the estate times the checks. An ``Across`` is made afresh
    for each check, so it is observed each time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # id(snapshot) -> (the snapshot, kept so that its id is not reused; its observations)
        self._made: dict[int, tuple[object, Future[Any]]] = {}

    def __call__(self, name: str, snapshot: object) -> Any:
        if isinstance(snapshot, Across):
            return observation(name, snapshot)
        with self._lock:
            entry = self._made.get(id(snapshot))
            owner = entry is None
            if entry is None:
                entry = self._made[id(snapshot)] = (snapshot, Future())
        made = entry[1]
        if owner:
            try:
                made.set_result(observation(name, snapshot))
            except BaseException as exc:
                made.set_exception(exc)
        return made.result()


def evaluate_job(
    job: Job,
    cache: SnapshotCache | None,
    run_id: str,
    clock: Callable[[], datetime],
    cache_for: CacheFor,
    observe: Callable[[str, object], Any] | None = None,
) -> NewEvidence:
    """One job's evidence: its account's resolution error, else its judged snapshots from
    ``cache`` (the memo its account's snapshots are fetched through) and, for a
    cross-provider check, from ``cache_for`` each of its sources' accounts; ``observe`` as
    in :func:`judge`."""
    if job.account.error is not None or cache is None:
        cause = job.account.error or f"no way to collect from {job.target}"
        return error_evidence(job.check, job.target, run_id, cause, clock())
    return judge(
        job.check,
        job.target,
        lambda kind: cache.get(kind, job.target),
        run_id,
        clock,
        across=lambda: gather(job.sources, cache_for),
        observe=observe,
    )


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
        limit_arenas()  # before the check threads start: see collector.malloc
        fix_mmap_threshold()
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
        jobs = schedule(plan(list(checks), accounts, self.registry), self.registry)
        if self.on_plan:
            self.on_plan(len(jobs))
        started = self.clock()
        run_id = self.store.start_run(
            started_at=started,
            trigger=trigger,
            planned=len(jobs),
            annexa_version=annexa_version(),
            collected_by=collected_by(accounts),
        )
        result = RunResult(run_id, "running", started, started)
        log.info("run started", run_id=run_id, jobs=len(jobs), trigger=trigger)
        try:
            self._execute(jobs, accounts, result)
        except BaseException:
            result.outcome = "interrupted"
            raise
        else:
            result.outcome = run_outcome(r.status for r in result.records)
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
        parts = self.registry.parts_needed(job.check for job in jobs)  # only what is judged
        caches = {
            id(a): SnapshotCache(self.registry.collectors, a.make_scope, parts)
            for a in accounts
            if a.make_scope is not None
        }
        observe = Observations()
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
            cache = caches.get(id(job.account))
            evidence = evaluate_job(job, cache, result.run_id, self.clock, cache_for, observe)
            settle(index, evidence)

        def cache_for(account: Account) -> SnapshotCache | None:
            return caches.get(id(account))

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
