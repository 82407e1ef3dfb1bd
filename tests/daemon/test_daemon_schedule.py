"""The real scheduler on sub-second intervals against moto: cadence, restart, health, metrics,
transitions and the run record, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import boto3
import pytest

from collector.clock import utcnow
from collector.daemon import Daemon
from storage import EvidenceStore
from tests.daemon import (
    aws_fixture,  # noqa: F401
    running,
    settings,
    wait_for,
)

S3 = "aws.s3.public_access_blocked"
ROOT = "aws.iam.root_mfa_enabled"


@pytest.fixture
def bucket(aws: None) -> None:
    boto3.client("s3").create_bucket(Bucket="open-bucket")


def records(url: str, check: str) -> list:
    with EvidenceStore.open(url) as store:
        return store.history(check_ids=[check], limit=None)


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def on_grid(ticks: list, interval: float) -> list[float]:
    """Each tick's due time in intervals after the first tick's (whole numbers on a grid)."""
    return [(t.due - ticks[0].due).total_seconds() / interval for t in ticks]


def test_jobs_run_on_cadence_with_health_and_metrics(bucket, store_url):
    daemon = Daemon(settings(store_url, [S3], {S3: 0.4}), poll=0.1)
    with running(daemon):
        wait_for(lambda: len(records(store_url, S3)) >= 5)
        code, body = get(daemon.port, "/healthz")
        metrics = get(daemon.port, "/metrics")[1]
    times = sorted(r.collected_at for r in records(store_url, S3))
    # Cadence from the scheduler's own due times, not wall-clock gaps: every collection was
    # due on the 0.4 s grid (a run skipped on a loaded machine leaves a gap of two steps),
    # in order, and each one stored exactly one record.
    ticks = [t for t in daemon.ticks if t.key.startswith(f"{S3}@")]
    steps = on_grid(ticks, 0.4)
    assert all(abs(step - round(step)) < 1e-6 for step in steps), steps
    assert [round(step) for step in steps] == sorted({round(step) for step in steps})
    assert len(ticks) == len(times)
    assert code == 200
    health = json.loads(body)
    assert health["role"] == "leader" and health["store_reachable"] and health["scheduler_alive"]
    assert health["last_successful_job_at"] is not None and health["jobs"] == 1
    assert f'annexa_check_duration_seconds_count{{check="{S3}"}}' in metrics
    assert 'annexa_controls{state="failing"} 1.0' in metrics  # A.8.3
    assert 'annexa_evidence_age_seconds{control="A.8.3"}' in metrics
    with EvidenceStore.open(store_url) as store:
        (run,) = store.runs()
        assert run.trigger == "daemon" and run.outcome == "complete"
        assert run.records == len(times)  # every record attached to the one run
        failing = [t for t in store.transitions(control="A.8.3") if t.to_state == "failing"]
        assert len(failing) == 1 and failing[0].alert_state == "delivered"  # logged, no hooks


def test_restart_skips_fresh_checks_and_runs_overdue_ones(bucket, store_url, tmp_path):
    # evidence may be an hour old, so a slow restart cannot turn a state at-risk or stale
    soa = tmp_path / "soa.yaml"
    soa.write_text(
        "controls:\n"
        + "".join(
            f"  - {{control: {c}, applicable: yes, max_evidence_age: 1h}}\n"
            for c in ("A.5.17", "A.8.2", "A.8.3", "A.8.5", "A.8.12")
        )
    )
    config = settings(store_url, [S3, ROOT], {S3: "1h", ROOT: 0.5}, soa=soa)
    with running(Daemon(config, poll=0.1)):
        wait_for(lambda: records(store_url, S3) and len(records(store_url, ROOT)) >= 2)
    before_root = len(records(store_url, ROOT))
    with EvidenceStore.open(store_url) as store:
        states = store.last_states()
        transitions = len(store.transitions())
    restarted = utcnow()
    with running(Daemon(config, poll=0.1)) as second:
        scheduling_done = utcnow()
        wait_for(lambda: len(records(store_url, ROOT)) >= before_root + 3)
    # ROOT's last record is older than its 0.5 s interval: its first run was due at once
    # (planned with the 0.1 s stagger; a first slot the executor misses moves it to the next
    # 0.5 s grid point, never to last record + interval), then on its grid
    ticks = [t for t in second.ticks if t.key.startswith(f"{ROOT}@")]
    assert restarted <= ticks[0].due <= scheduling_done + timedelta(seconds=0.6)
    steps = on_grid(ticks, 0.5)
    assert all(abs(step - round(step)) < 1e-6 for step in steps), steps
    assert len(records(store_url, S3)) == 1  # fresh for an hour: not re-run by the restart
    with EvidenceStore.open(store_url) as store:
        assert store.last_states() == states  # same evidence, same states: no new transitions
        assert len(store.transitions()) == transitions
        # moto's credential report has no root row, so every ROOT record is an ERROR: the first
        # run (S3 passed) is partial, the restart (ROOT only: S3 was fresh) failed
        assert {r.status for r in records(store_url, ROOT)} == {"error"}
        assert [r.outcome for r in store.runs()] == ["failed", "partial"]


def test_throttled_calls_are_counted(bucket, sqlite_url, monkeypatch):
    """A ThrottlingException answered on the wire is retried by botocore and counted."""
    from collector.aws.accounts import accounts_from_settings

    throttled = {"left": 2}

    def throttle(request, **_):
        if request.url.rstrip("/").endswith("amazonaws.com") and throttled["left"]:
            throttled["left"] -= 1
            from botocore.awsrequest import AWSResponse

            body = (
                b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate"
                b"</Message></Error>"
            )
            return AWSResponse(request.url, 503, {}, _Raw(body))
        return None

    def accounts(config, providers):
        found = accounts_from_settings(config)
        for account in found:
            account.make_scope.session.events.register("before-send.s3", throttle)
        return found

    daemon = Daemon(settings(sqlite_url, [S3], {S3: "1h"}), accounts=accounts, poll=0.1)
    with running(daemon):
        wait_for(lambda: records(sqlite_url, S3))  # adaptive retries pace calls: about 10 s
        metrics = get(daemon.port, "/metrics")[1]
    assert throttled["left"] == 0
    assert 'annexa_api_throttled_total{provider="aws"} 2.0' in metrics
    assert records(sqlite_url, S3)[0].status == "fail"  # retried through to an answer


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_):
        yield self._body

    def read(self, *_):
        body, self._body = self._body, b""
        return body
