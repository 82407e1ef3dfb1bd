"""``executor: celery`` gives the same evidence as ``local``: the demo estate (moto, in process)
audited by the daemon collecting itself, and by the daemon publishing to a real Redis broker
with a real Celery worker (in process, so it sees the same moto estate) appending to
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from celery.contrib.testing.worker import start_worker
from moto import mock_aws

from collector.aws.accounts import resolve_accounts
from collector.aws.demo_estate import install_wire_hooks, seed
from collector.daemon import Daemon
from collector.settings import Settings
from collector.worker.app import make_app
from storage import EvidenceStore
from tests.conftest import postgres_database
from tests.daemon import running, wait_for

pytestmark = [pytest.mark.broker]


@pytest.fixture
def estate(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        seed(session)
        install_wire_hooks(session)
        yield session


def demo_settings(url: str, **extra) -> Settings:
    return Settings(
        database_url=url,
        checks=None,
        aws={"regions": ["us-east-1"]},
        schedule={"jitter": 0, "stagger": 0.2, "grace_period": 10},
        daemon={"port": 0},
        **extra,
    )


def evidence_set(url: str) -> set[tuple]:
    with EvidenceStore.open(url) as store:
        assert store.verify()[1] is None
        return {
            (
                r.check_id,
                r.target_key,
                r.status,
                r.error,
                tuple(sorted((f["resource"], f["passed"], f["message"]) for f in r.findings)),
            )
            for r in store.history(limit=None)
        }


def sweep(daemon: Daemon, url: str) -> int:
    """Run ``daemon`` until every planned job has one record; returns how many."""
    with running(daemon):
        planned = wait_for(lambda: daemon._plan and len(daemon._plan.jobs))
        wait_for(lambda: count(url) >= planned, timeout=600)  # bounds a hang only
    return planned


def count(url: str) -> int:
    with EvidenceStore.open(url) as store:
        return store.count()


def test_celery_executor_stores_the_same_evidence_as_local(estate, postgres_url, redis_server):
    def accounts(settings, providers):
        return resolve_accounts(settings.aws, estate)

    local_planned = sweep(Daemon(demo_settings(postgres_url), accounts=accounts), postgres_url)
    local = evidence_set(postgres_url)

    with postgres_database() as url:
        settings = demo_settings(
            url,
            executor="celery",
            celery={"broker_url": redis_server.url, "queue_prefix": "parity."},
        )
        app = make_app(settings, accounts=accounts)
        worker = start_worker(
            app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=30
        )
        with worker:
            daemon = Daemon(settings, accounts=accounts, poll=0.1)
            planned = sweep(daemon, url)
        by_workers = sum(
            daemon.metrics.registry.get_sample_value(
                "annexa_worker_jobs_total", {"provider": "aws", "status": status}
            )
            or 0
            for status in ("pass", "fail", "error", "not_applicable")
        )
        via_celery = evidence_set(url)
        with EvidenceStore.open(url) as store:
            records = store.history(limit=None)
            (run,) = store.runs()
    assert planned == local_planned == len(records) > 20
    assert via_celery == local
    assert run.trigger == "daemon" and run.records == planned  # the leader's one run
    assert by_workers == planned  # the leader collected nothing itself
