"""``annexa daemon`` as subprocesses against a moto server: SIGTERM mid-run exits 0 with the
run closed, and a standby takes over from a SIGKILLed leader on one SQLite store. Each daemon
binds its health port itself (port 0) and the test reads it from the daemon's log."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml
from moto.server import ThreadedMotoServer

from storage import EvidenceStore
from tests.aws.console import annexa_env
from tests.daemon import logged_port, wait_for

S3 = "aws.s3.public_access_blocked"


@pytest.fixture(scope="module")
def endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def healthz(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())
    except OSError:
        return None


class Process:
    """One ``annexa daemon`` child; ``port`` is the health port it bound and logged."""

    def __init__(self, endpoint: str, tmp: Path, name: str) -> None:
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
        env = annexa_env(endpoint, tmp / "data", DAEMON__PORT="0", LOG_FORMAT="json")
        self.log = tmp / f"daemon-{name}.log"
        with self.log.open("wb") as log:
            self.child = subprocess.Popen(
                [exe, "--config", str(config), "daemon", "--example-soa"], env=env, stderr=log
            )
        self.port = logged_port(self.child, self.log)

    def healthz(self) -> dict:
        return healthz(self.port) or {}


def count(tmp: Path) -> int:
    with EvidenceStore.open(f"sqlite:///{tmp / 'data' / 'annexa.sqlite'}") as store:
        return store.count()


def test_sigterm_mid_run_exits_zero_and_closes_the_run(endpoint, tmp_path):
    daemon = Process(endpoint, tmp_path, "only")
    try:
        wait_for(lambda: daemon.healthz().get("status") == "ok")
        wait_for(lambda: count(tmp_path) >= 3)
        daemon.child.send_signal(signal.SIGTERM)
        assert daemon.child.wait(15) == 0
    finally:
        daemon.child.kill()
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'data' / 'annexa.sqlite'}") as store:
        (run,) = store.runs()
        assert run.trigger == "daemon" and run.outcome == "complete"
        assert run.records == store.count() >= 3
        assert store.verify()[1] is None  # the chain is intact: nothing half-written


def test_standby_takes_over_from_a_killed_leader(endpoint, tmp_path):
    first = Process(endpoint, tmp_path, "first")
    second = None
    try:
        # leader and collecting: its run is open (the lock is taken before the run starts)
        wait_for(lambda: first.healthz().get("run_id"))
        second = Process(endpoint, tmp_path, "second")
        assert wait_for(lambda: second.healthz().get("role") == "standby")
        assert "standby: another daemon holds the lock" in second.log.read_text()
        first.child.send_signal(signal.SIGKILL)
        first.child.wait(5)
        wait_for(lambda: second.healthz().get("role") == "leader")
        taken = count(tmp_path)
        wait_for(lambda: count(tmp_path) >= taken + 3)
        second.child.send_signal(signal.SIGTERM)
        assert second.child.wait(15) == 0
    finally:
        first.child.kill()
        if second is not None:
            second.child.kill()
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'data' / 'annexa.sqlite'}") as store:
        outcomes = sorted(r.outcome for r in store.runs())
        assert outcomes == ["complete", "interrupted"]  # the killed leader's run, reconciled
        assert store.verify()[1] is None
