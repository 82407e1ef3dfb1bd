"""A daemon started without any AWS credentials: every job errors, so /healthz is degraded
(naming the cause) while /livez stays alive, and the run is recorded as failed."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from collector.app import load_workspace
from collector.daemon import Daemon
from collector.daemon.probes import DaemonState, liveness, readiness
from storage import EvidenceStore
from tests.daemon import running, settings, wait_for

S3 = "aws.s3.public_access_blocked"
ROOT = "aws.iam.root_mfa_enabled"


def get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_no_credentials_degrades_health_and_fails_the_run(no_credentials, tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'daemon.sqlite'}"
    config = settings(url, [S3, ROOT], {S3: 0.3, ROOT: 0.3})
    mapping = load_workspace(config).mapping
    mapped = {c for check in (S3, ROOT) for c in mapping.controls_for(check)}
    daemon = Daemon(config, poll=0.1)
    with running(daemon):
        code, body = wait_for(
            lambda: (h := get(daemon.port, "/healthz"))[1]["status"] == "degraded" and h, 20
        )
        assert code == 503
        assert body["causes"] == ["every aws job is erroring (2 of 2)"]
        assert body["store_reachable"] is True and body["scheduler_alive"] is True
        assert get(daemon.port, "/livez") == (200, {"status": "alive", "role": "leader"})
        # every control the two checks map to is in error, none passing
        error = f'annexa_controls{{state="error"}} {float(len(mapped))}'
        wait_for(lambda: error in metrics(daemon.port), 10)
        assert 'annexa_controls{state="passing"} 0.0' in metrics(daemon.port)
    with EvidenceStore.open(url) as store:
        (run,) = store.runs()
        assert run.outcome == "failed" and run.records >= 2
        assert {r.status for r in store.history(check_ids=[S3, ROOT], limit=None)} == {"error"}


def _state(**kw: object) -> DaemonState:
    values: dict = {
        "role": "leader",
        "scheduler_alive": True,
        "store_ok": True,
        "last_success": None,
        "buffered": 0,
        "jobs": 3,
        "run_id": "r",
        "provider_jobs": {"aws": (1, 2), "okta": (0, 1)},
    }
    return DaemonState(**(values | kw))


@pytest.mark.parametrize(
    ("changes", "ready", "status", "causes", "alive"),
    [
        ({}, True, "ok", [], True),
        ({"provider_jobs": {"aws": (2, 2), "okta": (1, 1)}}, False, "degraded", 2, True),
        ({"store_ok": False}, False, "degraded", ["evidence store unreachable"], True),
        ({"scheduler_alive": False}, False, "unhealthy", [], False),
        ({"role": "standby", "provider_jobs": {}}, True, "standby", [], True),
        ({"role": "standby", "store_ok": False}, False, "degraded", 1, True),
        ({"role": "starting", "scheduler_alive": False}, False, "unhealthy", [], True),
        (
            {"broker_cause": "Connection refused", "unpublished": 4},
            False,
            "degraded",
            ["broker unreachable (Connection refused); 4 due jobs wait"],
            True,
        ),
    ],
)
def test_probe_rules(changes, ready, status, causes, alive) -> None:
    state = _state(**changes)
    ok, body = readiness(state)
    assert (ok, body["status"]) == (ready, status)
    assert (len(body["causes"]) if isinstance(causes, int) else body["causes"]) == causes
    assert liveness(state)[0] is alive
