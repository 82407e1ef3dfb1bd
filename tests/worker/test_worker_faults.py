"""Nothing lost, nothing twice, with real brokers and real ``annexa worker`` subprocesses:
a worker SIGKILLed mid-task (RabbitMQ), two workers racing on one task delivered twice
(Redis), and the broker stopped and restarted mid-sweep (Redis). The AWS API is a moto server
behind a proxy that holds S3 calls while a test needs a worker mid-task."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer

from collector.clock import utcnow
from collector.daemon import Daemon
from collector.settings import load_settings
from collector.worker.app import TASK, make_app, queue_name
from collector.worker.batch import Batch, job_key
from storage import EvidenceStore
from tests.daemon import running, wait_for
from tests.worker import ACCOUNT, S3, HoldingProxy, Worker, job_keys, write_config
from tests.worker.conftest import RABBIT_URL

pytestmark = [pytest.mark.broker]


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[HoldingProxy]:
    """A fresh moto server with one bucket, behind a holding proxy; this process's AWS
    clients (the leader's) use the proxy too."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket="open-bucket")
    holding = HoldingProxy(endpoint)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", holding.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    try:
        yield holding
    finally:
        holding.close()
        server.stop()


def healthz(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


def broker_down(body: dict) -> bool:
    """/healthz says degraded, naming the broker."""
    causes = body.get("causes", [])
    return body["status"] == "degraded" and any(c.startswith("broker unreachable") for c in causes)


def leader(config, **schedule) -> Daemon:
    settings = load_settings(config)
    settings.daemon.port = 0
    settings.aws.regions = "session"
    settings.schedule.jitter = timedelta(0)
    settings.schedule.stagger = timedelta(seconds=0.1)
    settings.schedule.grace_period = timedelta(seconds=20)
    for name, value in schedule.items():
        setattr(settings.schedule, name, value)
    return Daemon(settings, poll=0.1)


def assert_one_record_per_job(url: str) -> list[str]:
    keys = job_keys(url)
    assert None not in keys and len(keys) == len(set(keys)), keys
    with EvidenceStore.open(url) as store:
        assert store.verify()[1] is None  # the chain is intact: nothing half-written
    return keys


def test_a_worker_killed_mid_task_leaves_nothing_and_another_stores_it_once(
    proxy, postgres_url, rabbit_prefix, tmp_path
):
    config = write_config(tmp_path, postgres_url, RABBIT_URL, rabbit_prefix)
    first = Worker(config, proxy.url, tmp_path, "first")
    second = None
    daemon = leader(config, intervals={S3: timedelta(hours=1)})
    try:
        wait_for(first.ready)
        with running(daemon):
            wait_for(lambda: proxy.held >= 1)  # the first worker is mid-task, its fetch held
            second = Worker(config, proxy.url, tmp_path, "second")
            wait_for(second.ready)
            first.kill()  # SIGKILL: main process and pool child, before anything is stored
            assert job_keys(postgres_url) == []
            proxy.release.set()
            wait_for(lambda: len(job_keys(postgres_url)) >= 1)
            assert daemon.health()[1]["status"] == "ok"
    finally:
        first.kill()
        if second is not None:
            second.stop()
    (key,) = assert_one_record_per_job(postgres_url)
    assert key.startswith(f"{S3}@aws:{ACCOUNT}@")
    assert proxy.list_buckets == 2  # collected twice (once by the killed worker), stored once
    assert '"stored": 1' in second.text() or '"stored":1' in second.text().replace(" ", "")
    with EvidenceStore.open(postgres_url) as store:
        (record,) = store.history(limit=None)
        (run,) = store.runs()
    assert record.status == "fail" and record.run_id == run.id and run.outcome == "complete"


def test_two_workers_racing_on_one_task_store_one_record(
    proxy, postgres_url, redis_server, tmp_path
):
    config = write_config(tmp_path, postgres_url, redis_server.url, "race.")
    workers = [Worker(config, proxy.url, tmp_path, name) for name in ("a", "b")]
    try:
        for worker in workers:
            wait_for(worker.ready)
        settings = load_settings(config)
        with EvidenceStore.open(postgres_url) as store:
            run_id = store.start_run(started_at=utcnow(), trigger="daemon", planned=1)
        slot = utcnow()
        key = f"{S3}@aws:{ACCOUNT}"
        batch = Batch(run_id, "aws", ACCOUNT, ((key, job_key(key, slot)),))
        app = make_app(settings)
        for _ in workers:  # the same task delivered twice (a redelivery, a second publication)
            app.send_task(TASK, args=[batch.to_json()], queue=queue_name(settings, "aws"))
        wait_for(lambda: proxy.held >= 2)  # both workers are collecting it
        proxy.release.set()
        wait_for(lambda: all("batch stored" in w.text() for w in workers))
    finally:
        for worker in workers:
            worker.stop()
    assert assert_one_record_per_job(postgres_url) == [job_key(key, slot)]
    logs = [
        json.loads(line)
        for w in workers
        for line in w.text().splitlines()
        if line.startswith("{") and "batch stored" in line
    ]
    # one stored it, the other found it there (and so did a third delivery, when Redis gave the
    # task back after its visibility timeout on a loaded machine)
    stored = sorted(entry["stored"] for entry in logs)
    assert stored[-1] == 1 and stored[:-1] == [0] * (len(stored) - 1) and len(stored) >= 2


def test_broker_stopped_and_restarted_mid_sweep_loses_nothing(
    proxy, postgres_url, redis_server, tmp_path
):
    proxy.release.set()  # nothing held: a steady sweep
    # a task Redis held unacknowledged when it stopped comes back after the visibility
    # timeout; the leader publishes a job not stored in 3 s again (same job key)
    celery = {"broker_url": redis_server.url, "queue_prefix": "outage.", "redeliver_after": "3s"}
    config = write_config(tmp_path, postgres_url, redis_server.url, "outage.", celery=celery)
    worker = Worker(config, proxy.url, tmp_path, "only")
    daemon = leader(config, intervals={S3: timedelta(seconds=0.5)})
    try:
        wait_for(worker.ready)
        with running(daemon):
            wait_for(lambda: len(job_keys(postgres_url)) >= 2)
            redis_server.stop()
            wait_for(lambda: broker_down(healthz(daemon.port)))
            wait_for(lambda: healthz(daemon.port).get("unpublished_jobs", 0) >= 2)
            redis_server.start()
            wait_for(lambda: healthz(daemon.port)["status"] == "ok", timeout=120)
            stored = len(job_keys(postgres_url))
            wait_for(lambda: len(job_keys(postgres_url)) >= stored + 2, timeout=120)
            ticks = {job_key(t.key, t.due) for t in daemon.ticks}
        # the leader waited (grace period) until the workers stored everything it published
    finally:
        worker.stop()
    keys = set(assert_one_record_per_job(postgres_url))
    assert ticks <= keys  # every scheduled slot, published during the outage or not, stored
    with EvidenceStore.open(postgres_url) as store:
        (run,) = store.runs()
    assert run.outcome == "complete" and run.records == len(keys)


def test_a_batch_past_its_time_limit_is_stored_as_error_with_the_cause(
    proxy, postgres_url, redis_server, tmp_path
):
    celery = {"broker_url": redis_server.url, "queue_prefix": "limit.", "task_time_limit": 1}
    config = write_config(tmp_path, postgres_url, redis_server.url, "limit.", celery=celery)
    worker = Worker(config, proxy.url, tmp_path, "only")
    daemon = leader(config, intervals={S3: timedelta(hours=1)})
    try:
        wait_for(worker.ready)
        with running(daemon):
            wait_for(lambda: len(job_keys(postgres_url)) >= 1)  # held: never answered
    finally:
        proxy.release.set()
        worker.stop()
    assert_one_record_per_job(postgres_url)
    with EvidenceStore.open(postgres_url) as store:
        (record,) = store.history(limit=None)
    assert record.status == "error" and record.error == "timed out after 1 s"
    assert record.findings == []


def test_a_job_no_worker_stores_becomes_error_naming_the_cause(
    proxy, postgres_url, redis_server, tmp_path
):
    """No worker consumes the queue: the leader publishes the job again, then stores an
    ERROR itself (unknown is never fresh evidence) under the same job key."""
    celery = {"broker_url": redis_server.url, "queue_prefix": "nobody.", "redeliver_after": 0.5}
    config = write_config(tmp_path, postgres_url, redis_server.url, "nobody.", celery=celery)
    daemon = leader(config, intervals={S3: timedelta(hours=1)})
    daemon.settings.celery.max_deliveries = 2
    with running(daemon):
        wait_for(lambda: len(job_keys(postgres_url)) >= 1)
        published = daemon.metrics.registry.get_sample_value(
            "annexa_tasks_published_total", {"provider": "aws"}
        )
    assert_one_record_per_job(postgres_url)
    with EvidenceStore.open(postgres_url) as store:
        (record,) = store.history(limit=None)
    assert record.status == "error" and published == 2
    assert record.error.startswith("no worker stored it after 2 publications")
