"""``annexa daemon``: keep every selected (check, target)'s evidence fresh, on APScheduler 3.

Design (see README "Running as a daemon"):

- One run per daemon lifetime: trigger ``daemon``, opened when the daemon becomes the leader,
  finished on shutdown (``complete``; ``interrupted`` when checks outlived the grace period or
  the lock was lost). All its evidence is attached to it, so ``annexa runs`` lists one row per
  daemon start instead of one per tick.
- Memoisation: each account has a :class:`SnapshotGenerations` cache renewed every ``ttl``
  (at most half the shortest interval): checks sharing a snapshot that fall due together
  share one fetch.
- Shutdown: checks still running when the grace period ends are left unrecorded (never a
  half-written or fake ERROR record: their last evidence stays as it was, so the next start
  finds them overdue and runs them at once) and the run is marked ``interrupted``.
- Store outages: evidence is kept in a bounded in-memory buffer and appended (sealed then,
  so the chain stays valid) once the store answers again, retried with backoff (and, on
  shutdown, until the grace period ends). The store is pinged every second, so an idle
  daemon reports an outage too.
- ``executor: celery``: a tick publishes the due job instead of collecting it; co-due jobs of
  one account go out as one task, Celery workers (``annexa worker``) collect and append them
  to the shared store, and the leader takes in what they stored for status, alerts and
  metrics (``collector.worker.publisher``). While the broker is down, due jobs wait.
- Throttling: AWS via each session's ``needs-retry`` event; HTTP providers via an observer
  handed to their resolver hooks (``observe=``), counting 429s per provider.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor as CheckPool
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from collector.accounts import Account, collected_by
from collector.anchoring import checkpointer
from collector.app import Workspace, load_workspace
from collector.causes import THROTTLED_CODES
from collector.clock import utcnow
from collector.daemon.alerts import AlertDispatcher, alertable, log_transition
from collector.daemon.health import HealthServer, Metrics
from collector.daemon.jobs import (
    DaemonJob,
    SnapshotGenerations,
    cause_class,
    first_runs,
    interval_for,
    plan_jobs,
    snapshot_ttl,
)
from collector.daemon.leader import LeaderLock, leader_lock
from collector.daemon.probes import DaemonState, liveness, readiness
from collector.http import RetryObserver
from collector.logs import get_logger
from collector.providers import resolve_accounts
from collector.runner import evaluate_job, run_outcome, timeout_evidence
from collector.settings import Settings
from collector.snapshots import SnapshotCache
from collector.soa import Soa
from collector.status import ControlStatus, Scope, evaluate
from storage import EvidenceStore, NewEvidence, StoreError, Transition
from storage.errors import mask_url

if TYPE_CHECKING:  # Celery is imported only with executor: celery
    from collector.worker.publisher import Publisher

log = get_logger("annexa.daemon")

STORE_ERRORS = (SQLAlchemyError, OSError, StoreError)
MAX_BUFFER = 10_000  # evidence records held while the store is unreachable
MAX_BACKOFF = 30.0
PROBE_EVERY = 1.0  # seconds between pings of a store that looks up (an idle daemon's outage)
SWEEP_EVERY = 60.0  # seconds between full status evaluations (time alone can make evidence stale)
AccountResolver = Callable[[Settings, set[str]], list[Account]]


class Tick(NamedTuple):
    """One collection the scheduler started: the job, when it was due, when it began (both on
    the daemon's clock); ``started - due`` is its lateness."""

    key: str
    due: datetime
    started: datetime


@dataclass(frozen=True)
class _Plan:
    """What one configuration resolves to: the workspace, SoA, accounts and jobs."""

    settings: Settings
    workspace: Workspace
    soa: Soa
    jobs: dict[str, DaemonJob]
    intervals: dict[str, timedelta]
    scope: Scope
    accounts: dict[str, str | None]  # what the run records (``collected_by``)

    def controls_of(self, check_id: str) -> set[str]:
        return set(self.workspace.mapping.controls_for(check_id))


def _console(settings: Settings, clock: Callable[[], datetime]) -> Any:
    """The web console the daemon serves beside its probes (``daemon.web``), None when off;
    UserError when the address reaches beyond loopback without any way to sign in."""
    if not settings.daemon.web:
        return None
    from collector.web.app import LazyConsole
    from collector.web.auth import check_bind

    check_bind(settings.web, settings.daemon.host)
    return LazyConsole(settings, host=settings.daemon.host, clock=clock)


class Daemon:
    """The long-lived collector. ``run()`` blocks until ``request_stop()`` (or SIGTERM/SIGINT
    when run on the main thread) and returns the exit code."""

    def __init__(
        self,
        settings: Settings,
        *,
        reload: Callable[[], Settings] | None = None,
        accounts: AccountResolver | None = None,
        clock: Callable[[], datetime] = utcnow,
        poll: float = 1.0,
    ) -> None:
        self.settings = settings
        self._reload_settings = reload or (lambda: self.settings)
        self._resolve = accounts or self._resolve_accounts
        self.clock = clock
        self.poll = poll
        self.role = "starting"
        self.run_id: str | None = None
        self.store: EvidenceStore | None = None
        self.store_ok = False
        self.scheduler_alive = False
        self.last_success: datetime | None = None
        self.ticks: deque[Tick] = deque(maxlen=10_000)  # the latest collections started
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._closing = False
        self._plan: _Plan | None = None
        self._buffer: deque[NewEvidence] = deque()
        self._write_lock = threading.Lock()
        self._status_lock = threading.Lock()
        self._retry_at = 0.0
        self._probed_at = 0.0
        self._backoff = 0.5
        self._inflight: set[str] = set()
        self._inflight_lock = threading.Lock()
        self._due: dict[str, datetime] = {}
        self._states: dict[str, str] = {}
        self._job_errors: dict[str, bool] = {}  # job key -> its latest result is an ERROR
        self._run_statuses: Counter[str] = Counter()  # evidence statuses stored in this run
        self._statuses: dict[str, ControlStatus] = {}
        self._dispatcher: AlertDispatcher | None = None
        self._generations = SnapshotGenerations(1.0)
        self._check_pool: CheckPool | None = None
        self._publisher: Publisher | None = None  # executor: celery
        self.metrics = Metrics(lambda: list(self._statuses.values()), clock)
        self._console = _console(settings, clock)
        self._server = HealthServer(
            settings.daemon.host,
            settings.daemon.port,
            self.health,
            self.metrics,
            self.live,
            console=self._console,
        )

    # -- control -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The health/metrics port (the real one when configured as 0)."""
        return self._server.port

    def request_stop(self) -> None:
        self._stop.set()

    def request_reload(self) -> None:
        self._reload.set()

    def probe_state(self) -> DaemonState:
        """What ``/healthz`` and ``/livez`` judge (see ``collector.daemon.probes``)."""
        plan = self._plan
        per_provider: dict[str, tuple[int, int]] = {}
        if plan is not None and self.role == "leader":
            for key, job in plan.jobs.items():
                erroring, planned = per_provider.get(job.job.check.provider, (0, 0))
                failed = self._job_errors.get(key, False)
                per_provider[job.job.check.provider] = (erroring + failed, planned + 1)
        return DaemonState(
            role=self.role,
            scheduler_alive=self.scheduler_alive,
            store_ok=self.store_ok,
            last_success=self.last_success,
            buffered=len(self._buffer),
            jobs=len(plan.jobs) if plan else 0,
            run_id=self.run_id,
            provider_jobs=per_provider,
            broker_cause=self._publisher.broker_cause if self._publisher else None,
            unpublished=self._publisher.pending if self._publisher else 0,
        )

    def health(self) -> tuple[bool, dict[str, Any]]:
        """(ready, body) for ``/healthz``: see ``probes.readiness``."""
        return readiness(self.probe_state())

    def live(self) -> tuple[bool, dict[str, Any]]:
        """(alive, body) for ``/livez``: see ``probes.liveness``."""
        return liveness(self.probe_state())

    def run(self) -> int:
        """Serve health, wait for the lock, collect until stopped; returns 0."""
        restore = self._install_signals()
        self._server.start()
        if self._console is not None:
            self._console.prepare()
        log.info(
            "daemon started",
            health=f"http://{self.settings.daemon.host}:{self.port}/healthz",
            store=mask_url(self.settings.store_url),
        )
        try:
            while not self._stop.is_set():
                store = self._open_store()
                if store is None:
                    break
                lock = self._acquire()
                if lock is None:
                    break
                try:
                    self._lead(store, lock)
                finally:
                    lock.release()
                    self.metrics.leader.set(0)
        finally:
            if self._buffer:
                log.error("evidence lost: the store stayed unreachable", records=len(self._buffer))
            if self.store is not None:
                self.store.close()
            self._server.close()
            if self._console is not None:
                self._console.close()
            restore()
            log.info("daemon stopped")
        return 0

    def _install_signals(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        handlers = {
            signal.SIGTERM: lambda *_: self.request_stop(),
            signal.SIGINT: lambda *_: self.request_stop(),
            signal.SIGHUP: lambda *_: self.request_reload(),
        }
        previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
        return lambda: [signal.signal(s, h) for s, h in previous.items()] and None

    # -- store and lock ------------------------------------------------------------------------

    def _open_store(self) -> EvidenceStore | None:
        """The store (opened once, migrated), retrying with backoff while unreachable."""
        delay = 0.5
        while self.store is None and not self._stop.is_set():
            try:
                self.store = EvidenceStore.open(self.settings.store_url)
                self.store.checkpoint_hook = checkpointer(self.settings)
            except StoreError as exc:
                self.store_ok = False
                self.metrics.store_up.set(0)
                log.warning("evidence store unreachable; retrying", cause=str(exc), retry_in=delay)
                self._stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF)
        if self.store is not None:
            self.store_ok = True
            self.metrics.store_up.set(1)
        return self.store

    def _acquire(self) -> LeaderLock | None:
        """The collection lock, waiting as a standby while another daemon holds it."""
        lock = leader_lock(self.settings.store_url)
        announced = False
        while not self._stop.is_set():
            try:
                if lock.try_acquire():
                    log.info("leader: this daemon collects", pid_lock=type(lock).__name__)
                    return lock
            except Exception as exc:  # unreachable PostgreSQL: keep polling
                log.warning("cannot reach the lock", cause=type(exc).__name__)
            if not announced:
                log.info("standby: another daemon holds the lock")
                self.role = "standby"
                announced = True
            self._flush()  # evidence buffered while it led (lock lost in an outage)
            self._probe_store()
            self._stop.wait(self.poll)
        lock.release()
        return None

    # -- leading -------------------------------------------------------------------------------

    def _lead(self, store: EvidenceStore, lock: LeaderLock) -> None:
        self.role = "leader"
        self.metrics.leader.set(1)
        self._closing = False
        for run_id in store.reconcile_interrupted():
            log.warning("earlier run was interrupted", run_id=run_id)
        plan = self._plan = self._load(self.settings)
        self._job_errors, self._run_statuses = {}, Counter()
        self.run_id = store.start_run(
            started_at=self.clock(),
            trigger="daemon",
            planned=len(plan.jobs),
            collected_by=plan.accounts,
        )
        self._states = store.last_states()
        self._dispatcher = self._new_dispatcher(plan.settings)
        for pending in store.transitions(alert_state="pending"):
            self._dispatcher.submit(pending)
        self._flush(force=True)
        self._sweep()
        if plan.settings.executor == "celery":
            self._publisher = self._new_publisher(plan.settings, store.newest_id())
        concurrency = plan.settings.schedule.concurrency
        self._check_pool = CheckPool(concurrency * 2, thread_name_prefix="annexa-check")
        scheduler = BackgroundScheduler(
            executors={"default": _TimedExecutor(concurrency, self._submitted)},
            timezone=UTC,
        )
        self._schedule(scheduler, plan.jobs, store.latest(), replace=False)
        shortest = min((j.interval for j in plan.jobs.values()), default=timedelta(minutes=1))
        sweep = min(SWEEP_EVERY, shortest.total_seconds())
        scheduler.add_job(
            self._sweep,
            IntervalTrigger(seconds=max(sweep, 0.2), timezone=UTC),
            id="__sweep__",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        if store.checkpoint_hook is not None:  # signed checkpoints every N minutes
            every = plan.settings.checkpoints.every_minutes * 60
            scheduler.add_job(
                store.checkpoint_hook,
                IntervalTrigger(seconds=every, timezone=UTC),
                args=[store],
                id="__checkpoint__",
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )
        scheduler.start()
        self.scheduler_alive = True
        log.info("collecting", run_id=self.run_id, jobs=len(plan.jobs))
        lost = False
        try:
            while not self._stop.wait(self.poll):
                if self._reload.is_set():
                    self._reload.clear()
                    self._apply_reload(scheduler)
                self._flush()
                self._probe_store()
                self._pump()
                if not self._still_leader(lock):
                    lost = True
                    break
                self.scheduler_alive = scheduler.running
        finally:
            self._shutdown(scheduler, lost)

    def _still_leader(self, lock: LeaderLock) -> bool:
        """False only when another daemon took the lock (an unreachable store is no reason
        to stop: nobody else can collect into it either; evidence is buffered)."""
        if lock.alive():
            return True
        try:
            if lock.try_acquire():
                log.info("collection lock re-acquired")
                return True
        except Exception:
            return True  # still unreachable: keep collecting into the buffer
        log.error("lost the collection lock to another daemon; standing by")
        return False

    def _shutdown(self, scheduler: BackgroundScheduler, lost: bool) -> None:
        if scheduler.running:
            scheduler.shutdown(wait=False)  # no new jobs; running ones go on
        grace = self.settings.schedule.grace_period.total_seconds()
        deadline = time.monotonic() + grace
        while self._inflight and time.monotonic() < deadline:
            time.sleep(0.05)
        publisher = self._publisher
        while publisher and (publisher.pending or publisher.outstanding):
            if time.monotonic() >= deadline:
                break
            self._pump()  # workers' records still count for this run
            time.sleep(0.1)
        self._closing = True  # from here, late results are not recorded
        interrupted = sorted(self._inflight)
        if publisher is not None and (publisher.pending or publisher.outstanding):
            interrupted += [f"{publisher.pending} unpublished"] if publisher.pending else []
            interrupted += [f"{publisher.outstanding} published"] if publisher.outstanding else []
        if interrupted:
            log.warning(
                "checks still running after the grace period; left unrecorded",
                jobs=interrupted[:20],
                count=len(interrupted),
            )
        if self._check_pool is not None:
            self._check_pool.shutdown(wait=False, cancel_futures=True)
        if self._dispatcher is not None:
            self._dispatcher.close(timeout=min(5.0, grace))
        while not self._flush(force=True) and time.monotonic() < deadline:
            time.sleep(min(0.5, max(deadline - time.monotonic(), 0.0)))  # store down: retry
        outcome = (
            "interrupted" if interrupted or lost else run_outcome(self._run_statuses.elements())
        )
        if self.run_id is not None and self.store is not None:
            try:
                self.store.finish_run(self.run_id, finished_at=self.clock(), outcome=outcome)
            except STORE_ERRORS as exc:
                log.error("cannot close the run", run_id=self.run_id, cause=type(exc).__name__)
        log.info("run finished", run_id=self.run_id, outcome=outcome)
        self.scheduler_alive = False
        self.role = "stopped" if self._stop.is_set() else "standby"

    # -- configuration -------------------------------------------------------------------------

    def _load(self, settings: Settings) -> _Plan:
        workspace = load_workspace(settings)
        checks = workspace.checks()
        soa, notice = workspace.soa(None)
        if notice:
            log.info("soa", notice=notice)
        accounts = self._resolve(settings, {p for c in checks for p in c.providers})
        self._watch_throttling(accounts)
        jobs = plan_jobs(checks, accounts, workspace.registry, workspace.mapping, settings.schedule)
        intervals = {
            c.id: interval_for(c, workspace.mapping, settings.schedule)
            for c in workspace.registry.checks.values()
        }
        ttl = snapshot_ttl((j.interval for j in jobs.values()), settings.schedule)
        self._generations = SnapshotGenerations(ttl)
        scope = workspace.scope(targets={j.job.target.key for j in jobs.values()}, store=None)
        return _Plan(settings, workspace, soa, jobs, intervals, scope, collected_by(accounts))

    def _apply_reload(self, scheduler: BackgroundScheduler) -> None:
        """Re-read the config, re-resolve accounts and reschedule; unchanged jobs keep their
        next run time."""
        try:
            settings = self._reload_settings()
            plan = self._load(settings)
        except Exception as exc:
            log.error("reload failed; keeping the current configuration", cause=str(exc))
            return
        old = self._plan.jobs if self._plan else {}
        for key in old.keys() - plan.jobs.keys():
            scheduler.remove_job(key)
        changed = {
            k: j for k, j in plan.jobs.items() if k not in old or old[k].interval != j.interval
        }
        self.settings = settings
        self._plan = plan
        self._record_accounts(plan)
        if self._dispatcher is not None:
            self._dispatcher.webhooks = list(settings.alerts.webhooks)
        self._schedule(scheduler, changed, self._latest(), replace=True)
        log.info(
            "configuration reloaded",
            jobs=len(plan.jobs),
            added_or_changed=len(changed),
            removed=len(old.keys() - plan.jobs.keys()),
        )

    def _record_accounts(self, plan: _Plan) -> None:
        """The run records the accounts of this (re)load: status beside the daemon counts
        them where the config cannot name them."""
        if self.store is None or self.run_id is None:
            return
        try:
            self.store.set_run_accounts(self.run_id, plan.accounts)
        except STORE_ERRORS as exc:
            log.error("cannot record the run's accounts", cause=type(exc).__name__)

    def _latest(self) -> list:
        try:
            return self.store.latest() if self.store else []
        except STORE_ERRORS:
            return []

    def _schedule(
        self,
        scheduler: BackgroundScheduler,
        jobs: dict[str, DaemonJob],
        latest: Iterable,
        *,
        replace: bool,
    ) -> None:
        schedule = self.settings.schedule
        runs = first_runs(jobs.values(), latest, self.clock(), schedule.stagger)
        jitter = schedule.jitter.total_seconds()
        for key, job in jobs.items():
            seconds = job.interval.total_seconds()
            jitter_s = min(jitter, seconds / 2)
            scheduler.add_job(
                self._tick,
                IntervalTrigger(
                    seconds=seconds,
                    start_date=runs[key],
                    jitter=jitter_s or None,
                    timezone=UTC,
                ),
                args=[key],
                id=key,
                name=key,
                next_run_time=runs[key],
                coalesce=True,
                max_instances=1,
                misfire_grace_time=max(1, math.ceil(seconds)),
                replace_existing=replace,
            )

    def _resolve_accounts(self, settings: Settings, providers: set[str]) -> list[Account]:
        return resolve_accounts(providers, settings, observe=self._http_throttle_counter)

    def _http_throttle_counter(self, provider: str) -> RetryObserver:
        """Counts the 429s an HTTP provider's client sees (503 is not throttling)."""
        throttled = self.metrics.api_throttled.labels(provider)

        def observe(response: Any, attempt: int) -> None:
            if response.status_code == 429:
                throttled.inc()

        return observe

    def _watch_throttling(self, accounts: Sequence[Account]) -> None:
        """Count throttled AWS responses (each retry botocore makes on them) via the
        session's ``needs-retry`` event, which every client of the session inherits."""
        for account in accounts:
            session = getattr(account.make_scope, "session", None)
            events = getattr(session, "events", None)
            if events is not None:
                events.register("needs-retry", self._on_needs_retry, unique_id="annexa-throttle")

    def _on_needs_retry(self, response: Any = None, **_: Any) -> None:
        if not response:
            return None
        http, parsed = response
        code = (parsed or {}).get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        if getattr(http, "status_code", 0) == 429 or code in THROTTLED_CODES:
            self.metrics.api_throttled.labels("aws").inc()
        return None

    # -- jobs ----------------------------------------------------------------------------------

    def _submitted(self, key: str, scheduled: datetime) -> None:
        self._due[key] = scheduled

    def _tick(self, key: str) -> None:
        started = self.clock()
        due = self._due.pop(key, None)
        if due is not None:
            late = (started - due).total_seconds()
            self.metrics.job_lateness.observe(max(late, 0.0))
        plan = self._plan
        job = plan.jobs.get(key) if plan else None
        if job is None or self._closing or self._check_pool is None:
            return
        if due is not None:
            self.ticks.append(Tick(key, due, started))
        if self._publisher is not None:
            self._publisher.due(job, due or started)  # a worker collects it
            return
        with self._inflight_lock:
            self._inflight.add(key)
        try:
            self._collect(plan, job)
        finally:
            with self._inflight_lock:
                self._inflight.discard(key)

    def _collect(self, plan: _Plan, job: DaemonJob) -> None:
        assert self.run_id is not None and self._check_pool is not None
        began = time.monotonic()
        collectors = plan.workspace.registry.collectors

        def cache_for(account: Account) -> SnapshotCache | None:
            return self._generations.cache_for(account, collectors)

        future = self._check_pool.submit(
            evaluate_job, job.job, cache_for(job.job.account), self.run_id, self.clock, cache_for
        )
        timeout = plan.settings.check_timeout
        try:
            evidence = future.result(timeout=timeout)
        except FuturesTimeout:
            evidence = timeout_evidence(job.job, self.run_id, timeout, self.clock())
        self.metrics.check_duration.labels(job.check_id).observe(time.monotonic() - began)
        if evidence.status == "error":
            self.metrics.check_errors.labels(job.check_id, cause_class(evidence.error or "")).inc()
        if self._closing:
            return  # the grace period is over: leave it unrecorded
        self._job_errors[job.key] = evidence.status == "error"
        self._run_statuses[evidence.status] += 1
        if self._store_evidence(evidence):
            self.last_success = self.clock()
            self._reevaluate(plan, plan.controls_of(job.check_id))

    # -- executor: celery ----------------------------------------------------------------------

    def _new_publisher(self, settings: Settings, after: int) -> Publisher:
        from collector.worker.app import make_app
        from collector.worker.publisher import Publisher

        published = self.metrics.tasks_published
        return Publisher(
            make_app(settings),
            settings,
            clock=self.clock,
            on_publish=lambda provider, jobs: published.labels(provider).inc(),
            after=after,
        )

    def _pump(self) -> None:
        """Publish due jobs; take in the records workers stored (status, alerts, metrics)."""
        publisher, plan = self._publisher, self._plan
        if publisher is None or plan is None or self.run_id is None or self.store is None:
            return
        publisher.publish(self.run_id)
        self.metrics.broker_up.set(int(publisher.broker_ok))
        try:
            done = publisher.settle(self.store, self.run_id)
        except STORE_ERRORS as exc:
            self._store_down(exc)
            return
        self.metrics.jobs_waiting.labels("unpublished").set(publisher.pending)
        self.metrics.jobs_waiting.labels("published").set(publisher.outstanding)
        controls: set[str] = set()
        for item in done:
            provider = item.job.job.check.provider
            self._job_errors[item.job.key] = item.status == "error"
            self._run_statuses[item.status] += 1
            self.metrics.worker_jobs.labels(provider, item.status).inc()
            self.metrics.worker_job_duration.labels(provider).observe(item.seconds)
            if item.status == "error":
                cause = cause_class(item.error or "")
                self.metrics.check_errors.labels(item.job.check_id, cause).inc()
            controls |= plan.controls_of(item.job.check_id)
        if done:
            self._store_up()
            self.last_success = self.clock()
            self._reevaluate(plan, controls)

    # -- evidence buffering --------------------------------------------------------------------

    def _store_evidence(self, evidence: NewEvidence) -> bool:
        with self._write_lock:
            if len(self._buffer) >= MAX_BUFFER:
                dropped = self._buffer.popleft()
                log.error("evidence buffer full; dropping the oldest", check=dropped.check_id)
            self._buffer.append(evidence)
            return self._flush_locked(force=False)

    def _flush(self, *, force: bool = False) -> bool:
        with self._write_lock:
            return self._flush_locked(force=force)

    def _flush_locked(self, *, force: bool) -> bool:
        if not self._buffer:
            return True
        if self.store is None or (not force and time.monotonic() < self._retry_at):
            self.metrics.buffered.set(len(self._buffer))
            return False
        try:
            self.store.append_many(list(self._buffer))
        except STORE_ERRORS as exc:
            self._store_down(exc)
            self.metrics.buffered.set(len(self._buffer))
            return False
        if len(self._buffer) > 1 or not self.store_ok:
            log.info("buffered evidence stored", records=len(self._buffer))
        self._buffer.clear()
        self.metrics.buffered.set(0)
        self._store_up()
        return True

    def _store_down(self, exc: BaseException) -> None:
        if self.store_ok:
            log.error(
                "evidence store unreachable; buffering evidence",
                cause=" ".join(str(getattr(exc, "orig", None) or exc).split())[:200],
            )
        self.store_ok = False
        self.metrics.store_up.set(0)
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)

    def _store_up(self) -> None:
        if not self.store_ok:
            log.info("evidence store reachable again")
        self.store_ok = True
        self.metrics.store_up.set(1)
        self._backoff = 0.5

    def _probe_store(self) -> None:
        """Ping the store (unless buffered evidence is there to retry with): every
        ``PROBE_EVERY`` while it is up, so an idle daemon notices an outage; on the backoff
        schedule while it is down."""
        if self.store is None or self._buffer:
            return
        now = time.monotonic()
        if now < (self._probed_at + PROBE_EVERY if self.store_ok else self._retry_at):
            return
        self._probed_at = now
        try:
            with self.store.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except STORE_ERRORS as exc:
            self._store_down(exc)
            return
        self._store_up()

    # -- status and alerts ---------------------------------------------------------------------

    def _sweep(self) -> None:
        """Re-evaluate every control (time alone turns evidence AT_RISK or STALE)."""
        plan = self._plan
        if plan is not None:
            self._reevaluate(plan, None)

    def _reevaluate(self, plan: _Plan, controls: set[str] | None) -> None:
        if self.store is None or not self.store_ok:
            return
        mapping = plan.workspace.mapping
        with self._status_lock:
            try:
                if controls is None:
                    latest = self.store.latest()
                    manual = self.store.manual_items()
                else:
                    checks = {c for control in controls for c in mapping.checks_for(control)}
                    latest = self.store.latest(checks)
                    manual = self.store.manual_items(sorted(controls))
                exceptions = self.store.exceptions()
                now = self.clock()
                statuses = evaluate(
                    plan.workspace.catalogue,
                    plan.soa,
                    mapping,
                    latest,
                    plan.intervals,
                    now,
                    scope=plan.scope,
                    manual=manual,
                    exceptions=exceptions,
                    at_risk_fraction=plan.settings.schedule.at_risk_fraction,
                )
                for status in statuses:
                    if controls is None or status.control.id in controls:
                        self._observe(status, now)
            except STORE_ERRORS as exc:
                self._store_down(exc)

    def _observe(self, status: ControlStatus, now: datetime) -> None:
        """Record (and alert on) a change of one control's state; raises on a store error
        before the in-memory state moves, so the change is seen again next time."""
        control = status.control.id
        self._statuses[control] = status
        label = status.state.value + ("+at_risk" if status.at_risk else "")
        before = self._states.get(control)
        if label == before:
            return
        alert = alertable(before, label)
        reasons = [
            f"{r.state.value}: {r.message}"
            + (f" [{r.check_id} {r.target_key}]" if r.check_id else "")
            for r in status.reasons
        ]
        assert self.store is not None
        transition = self.store.record_transition(
            control, before, label, at=now, reasons=reasons, alert=alert
        )
        self._states[control] = label
        self.metrics.transitions.labels(label).inc()
        log_transition(transition, status.control.title, alert=alert, at=now)
        if alert and self._dispatcher is not None:
            self._dispatcher.submit(transition)

    def _new_dispatcher(self, settings: Settings) -> AlertDispatcher:
        def title(control: str) -> str:
            found = self._plan.workspace.catalogue.get(control) if self._plan else None
            return found.title if found else control

        return AlertDispatcher(
            settings.alerts.webhooks,
            titles=title,
            mark=self._mark_alert,
            on_outcome=lambda outcome: self.metrics.alert_deliveries.labels(outcome).inc(),
        )

    def _mark_alert(self, transition: Transition, outcome: str) -> None:
        if self.store is None:
            return
        try:
            self.store.mark_alert(transition.id, outcome, at=self.clock())  # type: ignore[arg-type]
        except STORE_ERRORS as exc:
            log.error(
                "cannot record alert delivery",
                control=transition.control_id,
                cause=type(exc).__name__,
            )


class _TimedExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, telling the daemon each job's scheduled time as it is
    submitted (so lateness counts time spent waiting for a free worker too)."""

    def __init__(self, max_workers: int, on_submit: Callable[[str, datetime], None]) -> None:
        super().__init__(max_workers)
        self._on_submit = on_submit

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        if run_times:
            self._on_submit(job.id, run_times[-1])
        super()._do_submit_job(job, run_times)
