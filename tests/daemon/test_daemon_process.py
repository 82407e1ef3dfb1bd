"""``annexa daemon`` as subprocesses against a moto server: SIGTERM mid-run exits 0 with the
run closed, and a standby takes over from a SIGKILLed leader on one SQLite store."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml
from moto.server import ThreadedMotoServer

from storage import EvidenceStore
from tests.aws.console import annexa_env
from tests.daemon import wait_for

S3 = "aws.s3.public_access_blocked"


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthz(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())
    except OSError:
        return None


def start(endpoint: str, tmp: Path, port: int) -> subprocess.Popen:
    config = tmp / "annexa.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "checks": [S3],
                "schedule": {"intervals": {S3: 0.3}, "jitter": 0, "grace_period": "5s"},
            }
        )
    )
    exe = shutil.which("annexa", path=str(Path(sys.executable).parent)) or "annexa"
    env = annexa_env(endpoint, tmp / "data", DAEMON__PORT=str(port), LOG_FORMAT="json")
    log = (tmp / f"daemon-{port}.log").open("wb")
    return subprocess.Popen([exe, "--config", str(config), "daemon"], env=env, stderr=log)


def count(tmp: Path) -> int:
    with EvidenceStore.open(f"sqlite:///{tmp / 'data' / 'annexa.sqlite'}") as store:
        return store.count()


def test_sigterm_mid_run_exits_zero_and_closes_the_run(endpoint, tmp_path):
    port = free_port()
    daemon = start(endpoint, tmp_path, port)
    try:
        wait_for(lambda: (healthz(port) or {}).get("status") == "ok", 30)
        wait_for(lambda: count(tmp_path) >= 3, 10)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(15) == 0
    finally:
        daemon.kill()
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'data' / 'annexa.sqlite'}") as store:
        (run,) = store.runs()
        assert run.trigger == "daemon" and run.outcome == "complete"
        assert run.records == store.count() >= 3
        assert store.verify()[1] is None  # the chain is intact: nothing half-written


def test_standby_takes_over_from_a_killed_leader(endpoint, tmp_path):
    first_port, second_port = free_port(), free_port()
    first = start(endpoint, tmp_path, first_port)
    second = None
    try:
        # leader and collecting: its run is open (the lock is taken before the run starts)
        wait_for(lambda: (healthz(first_port) or {}).get("run_id"), 30)
        second = start(endpoint, tmp_path, second_port)
        standby = wait_for(lambda: (healthz(second_port) or {}).get("role") == "standby", 30)
        assert standby
        assert (
            "standby: another daemon holds the lock"
            in (tmp_path / f"daemon-{second_port}.log").read_text()
        )
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        wait_for(lambda: (healthz(second_port) or {}).get("role") == "leader", 15)
        taken = count(tmp_path)
        wait_for(lambda: count(tmp_path) >= taken + 3, 10)
        second.send_signal(signal.SIGTERM)
        assert second.wait(15) == 0
    finally:
        first.kill()
        if second is not None:
            second.kill()
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'data' / 'annexa.sqlite'}") as store:
        outcomes = sorted(r.outcome for r in store.runs())
        assert outcomes == ["complete", "interrupted"]  # the killed leader's run, reconciled
        assert store.verify()[1] is None
