"""The leader's side of the Celery executor: publish due jobs, follow them into the store.

- Due jobs wait in ``pending`` until published; co-due jobs of one account go out as one batch
  (one task), so they share each fetch on the worker.
- While the broker is unreachable, publishing pauses with backoff and nothing is dropped:
  the jobs stay pending (``broker_ok`` False, with the cause, for ``/healthz``).
- Published jobs are ``outstanding`` until the store holds their job key. A job not stored
  within ``redeliver_after`` (a broker that lost its queue, a task that failed for good) is
  published again under the same key; after ``max_deliveries`` publications the leader
  stores an ERROR naming the cause, so unknown never reads as a pass. Time a job spends
  waiting behind a backlog does not count: while its provider's queue holds tasks and a
  worker stored a job of that provider within a task's hard time limit (or the broker cannot
  be asked), its clock restarts. Otherwise, under load, queued jobs would be published again
  (growing the backlog) and stored as ERROR though no task was lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from celery import Celery
from kombu.exceptions import ChannelError

from collector.clock import utcnow
from collector.daemon.jobs import DaemonJob
from collector.logs import get_logger
from collector.runner import error_evidence
from collector.settings import Settings
from collector.worker.app import HARD_LIMIT_MARGIN, TASK, queue_name, time_limit
from collector.worker.batch import Batch, job_key
from storage import EvidenceStore

log = get_logger("annexa.daemon")

MAX_BACKOFF = 30.0


@dataclass
class _Outstanding:
    job: DaemonJob
    slot: datetime
    deliveries: int
    published: float  # monotonic time of the latest publication
    first: float  # monotonic time of the first


@dataclass(frozen=True)
class Done:
    """A published job the store now holds."""

    job: DaemonJob
    status: str
    error: str | None
    seconds: float  # from its first publication to the leader seeing it stored


class Publisher:
    """Publishes due jobs to the broker and reports those stored (see the module doc); it
    reads the records appended after record ``after`` (the store's newest when it starts)."""

    def __init__(
        self,
        app: Celery,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        on_publish: Callable[[str, int], None] | None = None,
        after: int = 0,
    ) -> None:
        self.app = app
        self.settings = settings
        self.clock = clock
        self.on_publish = on_publish
        self.broker_ok = True
        self.broker_cause: str | None = None
        self._lock = threading.Lock()
        self._pending: list[tuple[DaemonJob, datetime, int]] = []  # job, slot, deliveries
        self._outstanding: dict[str, _Outstanding] = {}
        self._retry_at = 0.0
        self._backoff = 0.5
        self._seen = after  # the newest record id read from the store
        self._stored_at: dict[str, float] = {}  # provider -> when a job of it was last stored

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def outstanding(self) -> int:
        return len(self._outstanding)

    def due(self, job: DaemonJob, slot: datetime) -> None:
        """Queue one scheduled collection of ``job`` for publishing."""
        with self._lock:
            self._pending.append((job, slot, 0))

    def publish(self, run_id: str) -> int:
        """Publish the pending jobs, one batch per account; returns how many batches went
        out. On a broker error the rest stay pending and publishing pauses (backoff)."""
        if time.monotonic() < self._retry_at:
            return 0
        with self._lock:
            taken, self._pending = self._pending, []
        grouped: dict[tuple[str, str], list[tuple[DaemonJob, datetime, int]]] = {}
        for item in taken:
            account = item[0].job.account
            grouped.setdefault((account.provider, account.account), []).append(item)
        sent, unsent = 0, []
        for (provider, account), items in grouped.items():
            keys = [job_key(job.key, slot) for job, slot, _ in items]
            batch = Batch(
                run_id,
                provider,
                account,
                tuple((j.key, k) for (j, _, _), k in zip(items, keys, strict=True)),
            )
            if unsent or not self._send(batch):
                unsent += items
                continue
            sent += 1
            now = time.monotonic()
            with self._lock:
                for (job, slot, n), jk in zip(items, keys, strict=True):
                    before = self._outstanding.get(jk)
                    first = before.first if before else now
                    self._outstanding[jk] = _Outstanding(job, slot, n + 1, now, first)
            if self.on_publish:
                self.on_publish(provider, len(items))
        if unsent:
            with self._lock:
                self._pending[:0] = unsent
        return sent

    def _send(self, batch: Batch) -> bool:
        try:
            self.app.send_task(
                TASK,
                args=[batch.to_json()],
                queue=queue_name(self.settings, batch.provider),
                retry=False,
            )
        except Exception as exc:  # kombu's OperationalError, a refused or reset connection
            self._broker_down(exc)
            return False
        self._broker_up()
        return True

    def settle(self, store: EvidenceStore, run_id: str) -> list[Done]:
        """The published jobs now stored (removed from ``outstanding``); republishes those
        overdue and records an ERROR for those published ``max_deliveries`` times."""
        with self._lock:
            waiting = dict(self._outstanding)
        if not waiting:
            return []
        self._seen, appended = store.jobs_after(self._seen)
        stored = {jk: found for jk, found in appended.items() if jk in waiting}
        self._drop_pending(appended)  # republished, but the first delivery got stored
        now = time.monotonic()
        done = []
        with self._lock:
            for jk, (status, error) in stored.items():
                item = self._outstanding.pop(jk, None)
                if item is not None:
                    done.append(Done(item.job, status, error, now - item.first))
                    self._stored_at[_provider(item)] = now
        overdue = self.settings.celery.redeliver_after.total_seconds()
        late = [
            (jk, o) for jk, o in waiting.items() if jk not in stored and now - o.published > overdue
        ]
        alive = now - time_limit(self.settings) - HARD_LIMIT_MARGIN  # a task's longest run
        queued = self._backlogged({_provider(o) for _, o in late}, alive)
        with self._lock:
            for _, item in late:
                if _provider(item) in queued:
                    item.published = now  # behind a backlog being worked off: not lost
        late = [(jk, o) for jk, o in late if _provider(o) not in queued]
        given_up = []
        with self._lock:
            for jk, item in late:
                if item.deliveries >= self.settings.celery.max_deliveries:
                    given_up.append((jk, item))
                else:
                    self._outstanding.pop(jk, None)
                    self._pending.append((item.job, item.slot, item.deliveries))
                    log.warning(
                        "job not stored in time; publishing it again",
                        job=jk,
                        deliveries=item.deliveries,
                    )
        if given_up:
            done += self._give_up(store, run_id, given_up, now)
        return done

    def _backlogged(self, providers: set[str], since: float) -> set[str]:
        """The providers whose queue still holds tasks while a worker stored one of their jobs
        after ``since`` (a backlog being worked off), or whose queue the broker cannot tell."""
        held = set()
        for provider in providers:
            try:
                waiting = self._queued(queue_name(self.settings, provider))
            except Exception:  # the broker is down: its queues wait with it
                held.add(provider)
                continue
            if waiting and self._stored_at.get(provider, float("-inf")) > since:
                held.add(provider)
        return held

    def _queued(self, queue: str) -> int:
        """Tasks waiting in ``queue`` (not those a worker holds unacknowledged); one try."""
        with self.app.connection_for_write() as conn:
            conn.connect()
            channel = conn.channel()
            try:
                return int(channel.queue_declare(queue, passive=True).message_count)
            except ChannelError:  # no such queue (Redis: none while it is empty)
                return 0

    def _drop_pending(self, stored: dict[str, tuple[str, str | None]]) -> None:
        with self._lock:
            self._pending = [
                (job, slot, n)
                for job, slot, n in self._pending
                if job_key(job.key, slot) not in stored
            ]

    def _give_up(
        self, store: EvidenceStore, run_id: str, items: list[tuple[str, _Outstanding]], now: float
    ) -> list[Done]:
        cause = (
            f"no worker stored it after {self.settings.celery.max_deliveries} publications "
            f"(each waited {self.settings.celery.redeliver_after.total_seconds():g} s): "
            "check the workers and their queues"
        )
        pairs = [
            (jk, error_evidence(o.job.job.check, o.job.job.target, run_id, cause, self.clock()))
            for jk, o in items
        ]
        store.append_jobs(pairs)  # a worker that stored it meanwhile wins: one record per key
        found = store.stored_jobs(jk for jk, _ in items)
        done = []
        with self._lock:
            for jk, item in items:
                self._outstanding.pop(jk, None)
                status, error = found.get(jk, ("error", cause))
                done.append(Done(item.job, status, error, now - item.first))
        log.error("jobs no worker stored; recorded as ERROR", jobs=len(items))
        return done

    def _broker_down(self, exc: BaseException) -> None:
        cause = " ".join(str(exc).split())[:200] or type(exc).__name__
        if self.broker_ok:
            log.error("broker unreachable; due jobs wait", cause=cause, pending=self.pending)
        self.broker_ok, self.broker_cause = False, cause
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF)

    def _broker_up(self) -> None:
        if not self.broker_ok:
            log.info("broker reachable again; publishing")
        self.broker_ok, self.broker_cause = True, None
        self._backoff = 0.5


def _provider(item: _Outstanding) -> str:
    return item.job.job.check.provider
