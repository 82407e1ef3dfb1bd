"""The leader's redelivery clock with a real Redis broker and PostgreSQL store: a job waiting
in its queue behind a backlog the workers are working off is not published again nor stored
as ERROR, however long it waits; once its queue is drained, a job still not stored is (lost
on the way, as when a broker loses a task)."""

from __future__ import annotations

import time

import pytest

from collector.accounts import Account
from collector.app import load_workspace
from collector.clock import utcnow
from collector.daemon.jobs import plan_jobs
from collector.runner import error_evidence
from collector.settings import Settings
from collector.worker.app import make_app, queue_name
from collector.worker.batch import job_key
from collector.worker.publisher import Publisher
from storage import EvidenceStore
from tests.worker import S3

pytestmark = [pytest.mark.broker]

OVERDUE = 0.5  # redeliver_after, seconds


def wait_overdue() -> None:
    """Let the redelivery clock of what was published pass (a threshold, not a measurement)."""
    time.sleep(OVERDUE * 1.5)


def test_a_job_behind_a_backlog_waits_and_a_drained_lost_job_becomes_error(
    postgres_url, redis_server
):
    settings = Settings(
        database_url=postgres_url,
        checks=[S3],
        executor="celery",
        celery={
            "broker_url": redis_server.url,
            "queue_prefix": "backlog.",
            "redeliver_after": OVERDUE,
            "max_deliveries": 1,
        },
    )
    workspace = load_workspace(settings)
    accounts = [Account("aws", a) for a in ("111111111111", "222222222222")]
    jobs = plan_jobs(
        workspace.checks(), accounts, workspace.registry, workspace.mapping, settings.schedule
    )
    waiting, worked = sorted(jobs.values(), key=lambda j: j.key)
    app = make_app(settings)
    slot = utcnow()
    with EvidenceStore.open(postgres_url) as store:
        run_id = store.start_run(started_at=slot, trigger="daemon", planned=2)
        publisher = Publisher(app, settings, after=store.newest_id())
        publisher.due(waiting, slot)
        publisher.due(worked, slot)
        assert publisher.publish(run_id) == 2  # one task per account, both in the queue

        # past the clock, a worker stores one job of the provider: the queue is being worked off
        wait_overdue()
        evidence = error_evidence(worked.job.check, worked.job.target, run_id, "stand-in", slot)
        store.append_jobs([(job_key(worked.key, slot), evidence)])
        assert [d.job.key for d in publisher.settle(store, run_id)] == [worked.key]
        assert (publisher.outstanding, publisher.pending) == (1, 0)  # still waiting its turn

        # the queue drains but the job is never stored: lost, so it is ERROR, not stale
        with app.connection_for_write() as conn:
            channel = conn.channel()
            while channel.basic_get(queue_name(settings, "aws"), no_ack=True) is not None:
                pass
        wait_overdue()
        (done,) = publisher.settle(store, run_id)
        assert done.job.key == waiting.key and done.status == "error"
        assert done.error and done.error.startswith("no worker stored it after 1 publications")
        stored = store.stored_jobs([job_key(waiting.key, slot)])
    assert stored == {job_key(waiting.key, slot): ("error", done.error)}
