"""The Celery app: one queue per provider, one task (``annexa.collect``) per batch.

Delivery is at least once: the task is acknowledged only after its records are committed
(``acks_late``), a worker process killed mid-task gives the task back (``reject_on_worker_lost``;
RabbitMQ on connection loss, Redis after ``visibility_timeout``), and the store keeps one record
per job key, so a second delivery stores nothing twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from celery import Celery, Task
from celery.signals import worker_ready
from kombu import Exchange, Queue

from collector.accounts import Account
from collector.app import Workspace, load_workspace
from collector.daemon.jobs import DaemonJob, plan_jobs
from collector.errors import UserError
from collector.logs import get_logger
from collector.providers import RESOLVERS, resolve_accounts
from collector.settings import Settings
from collector.worker.batch import Batch, collect_batch
from storage import EvidenceStore

if TYPE_CHECKING:
    from collector.worker.ratelimit import ApiRateLimiter

log = get_logger("annexa.worker")

TASK = "annexa.collect"
PLAN_TTL = 600.0  # seconds a worker process keeps its resolved accounts and planned jobs
REPLAN_AFTER = 30.0  # at most this often, a job key unknown here makes the worker plan again
HARD_LIMIT_MARGIN = 60.0  # the task's hard time limit: the batch's limit plus this
AccountResolver = Callable[[Settings, set[str]], list[Account]]


def queue_name(settings: Settings, provider: str) -> str:
    """The queue a provider's batches go to."""
    return f"{settings.celery.queue_prefix}{provider}"


def time_limit(settings: Settings) -> float:
    """Seconds a batch may run before its unfinished jobs are recorded as ERROR."""
    return settings.celery.task_time_limit or settings.check_timeout


def make_app(settings: Settings, *, accounts: AccountResolver | None = None) -> Celery:
    """A Celery app on ``settings.celery.broker_url`` with annexa's task; ``accounts``
    resolves a worker's accounts (default: the providers' resolvers, as the daemon does)."""
    conf = settings.celery
    app = Celery("annexa", broker=conf.broker_url, set_as_current=False)
    transport: dict[str, Any] = {"visibility_timeout": conf.visibility_timeout}
    if conf.broker_url.startswith(("amqp", "pyamqp")):
        transport = {"confirm_publish": True}  # publish returns once the broker has it
    app.conf.update(
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=queue_name(settings, "default"),
        task_queues=[_queue(queue_name(settings, p)) for p in sorted(RESOLVERS)],
        task_create_missing_queues=True,
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        worker_hijack_root_logger=False,  # annexa's JSON or console logging stays
        worker_redirect_stdouts=False,
        worker_send_task_events=True,  # Celery's standard events (celery events, exporters)
        task_send_sent_event=True,
    )
    context = WorkerContext(settings, accounts)
    limit = time_limit(settings)

    @app.task(
        name=TASK,
        bind=True,
        acks_late=True,
        reject_on_worker_lost=True,
        max_retries=20,
        time_limit=limit + HARD_LIMIT_MARGIN,
    )
    def collect(task: Task, payload: dict[str, Any]) -> dict[str, int]:
        return context.run(Batch.from_json(payload), task)

    return app


def _queue(name: str) -> Queue:
    """A durable queue with its own direct exchange: a provider's tasks reach only its queue."""
    return Queue(name, Exchange(name, type="direct"), routing_key=name)


class WorkerContext:
    """What a worker process keeps between tasks: settings, workspace, store, planned jobs
    (all opened lazily, so each prefork child opens its own connections)."""

    def __init__(self, settings: Settings, accounts: AccountResolver | None = None) -> None:
        self.settings = settings
        self._resolve = accounts or (lambda s, providers: resolve_accounts(providers, s))
        self._lock = threading.Lock()
        self._plan_lock = threading.Lock()  # one plan at a time: tasks arriving together wait
        self._workspace: Workspace | None = None
        self._store: EvidenceStore | None = None
        self._jobs: dict[str, DaemonJob] = {}
        self._planned_at = float("-inf")
        self._limiter: ApiRateLimiter | None = None

    @property
    def workspace(self) -> Workspace:
        with self._lock:
            if self._workspace is None:
                self._workspace = load_workspace(self.settings)
            return self._workspace

    @property
    def store(self) -> EvidenceStore:
        with self._lock:
            if self._store is None:
                self._store = EvidenceStore.open(self.settings.store_url)
            return self._store

    def jobs(self, keys: Iterable[str]) -> dict[str, DaemonJob]:
        """The planned jobs (re-planned when stale, or when a key is unknown here)."""
        wanted = set(keys)
        with self._plan_lock:  # a task arriving while another plans uses that plan
            now = time.monotonic()
            stale = now - self._planned_at > PLAN_TTL
            missing = not wanted <= self._jobs.keys() and now - self._planned_at > REPLAN_AFTER
            if stale or missing:
                self._plan()
            return self._jobs

    def limiter(self) -> ApiRateLimiter | None:
        """The shared API rate limiter (made on first use, in the worker process that
        collects, never before a fork; it then limits every HTTP client of the process)."""
        conf = self.settings.celery
        with self._lock:
            if self._limiter is None and (conf.rate_limit or conf.rate_limits):
                from collector.worker.ratelimit import ApiRateLimiter

                self._limiter = ApiRateLimiter(conf)
                self._limiter.install()
            return self._limiter

    def _plan(self) -> None:
        workspace = self.workspace
        checks = workspace.checks()
        limiter = self.limiter()  # before resolving: the credential probes count too
        accounts = self._resolve(self.settings, {p for c in checks for p in c.providers})
        if limiter is not None:
            limiter.watch(accounts)
        jobs = plan_jobs(
            checks, accounts, workspace.registry, workspace.mapping, self.settings.schedule
        )
        with self._lock:
            self._jobs, self._planned_at = jobs, time.monotonic()
        log.info("jobs planned", jobs=len(jobs), accounts=len(accounts))

    def run(self, batch: Batch, task: Task) -> dict[str, int]:
        """Collect a batch and append its records (once per job key); retried on a store
        error, so the records are either all stored or the task runs again."""
        began = time.monotonic()
        store = self.store
        done = store.stored_jobs(jk for _, jk in batch.jobs)
        todo = Batch(
            batch.run_id,
            batch.provider,
            batch.account,
            tuple(p for p in batch.jobs if p[1] not in done),
        )
        stored = []
        if todo.jobs:
            pairs = collect_batch(
                todo,
                self.jobs(k for k, _ in todo.jobs),
                self.workspace.registry,
                time_limit=time_limit(self.settings),
                concurrency=self.settings.schedule.concurrency,
            )
            try:
                stored = store.append_jobs(pairs)
            except Exception as exc:
                log.warning("cannot store a batch; retrying", cause=str(exc)[:200])
                raise task.retry(exc=exc, countdown=min(2**task.request.retries, 30)) from None
        log.info(
            "batch stored",
            account=f"{batch.provider}:{batch.account}",
            jobs=len(batch.jobs),
            stored=len(stored),
            duplicate=len(batch.jobs) - len(stored),
            seconds=round(time.monotonic() - began, 3),
        )
        return {"jobs": len(batch.jobs), "stored": len(stored)}


def run_worker(
    settings: Settings,
    *,
    providers: Sequence[str] = (),
    concurrency: int = 2,
    pool: str = "prefork",
    hostname: str | None = None,
) -> int:
    """Run a Celery worker consuming the queues of ``providers`` (default: every provider's)
    until stopped (SIGTERM: warm shutdown, running tasks finish); returns its exit code."""
    unknown = sorted(set(providers) - set(RESOLVERS))
    if unknown:
        raise UserError(
            f"--queues: no provider {unknown[0]!r} (one of {', '.join(sorted(RESOLVERS))})"
        )
    if not settings.database_url or settings.store_url.startswith("sqlite"):
        log.warning("workers share one store: use PostgreSQL (database_url)")
    app = make_app(settings)
    queues = [queue_name(settings, p) for p in sorted(set(providers) or RESOLVERS)]
    logging.getLogger("celery").setLevel(logging.INFO)  # connection losses, recoveries

    @worker_ready.connect(weak=False)
    def ready(**_: Any) -> None:
        log.info("worker ready", queues=queues, concurrency=concurrency, pool=pool)

    worker = app.Worker(
        queues=queues,
        concurrency=concurrency,
        pool=pool,
        hostname=hostname,
        loglevel="INFO",
        without_mingle=True,
        without_gossip=True,
        optimization="fair",
    )
    worker.start()
    return int(worker.exitcode or 0)
