"""The image's entrypoint (``annexa daemon``) from a freshly installed wheel, as a non-root
user, against a moto server: /healthz 200, evidence stored, SIGTERM exits 0.

No Docker engine runs here, so this is the image's runtime step without the image: the wheel
built from this tree and its dependencies (a local wheelhouse built by ``pip wheel``, as the
Dockerfile's build stage does) installed with pip into a new virtualenv of a system Python,
owned and run by an unprivileged user.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from storage import EvidenceStore
from tests.daemon import logged_port

ROOT = Path(__file__).resolve().parents[2]
USER = "annexa-test"
#: Interpreters an unprivileged user can run (the project's own may live under /root).
SYSTEM_PYTHONS = ("/usr/bin/python3", "/usr/local/bin/python3")


def unprivileged_user() -> pwd.struct_passwd | None:
    for name in (USER, "annexa-ci"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    if os.geteuid() == 0 and shutil.which("useradd"):
        subprocess.run(["useradd", "--system", "--no-create-home", USER], check=True)
        return pwd.getpwnam(USER)
    return None


def demoted(user: pwd.struct_passwd) -> dict:
    """Popen arguments that run the child itself as ``user`` (like a container's USER)."""
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def as_user(user: pwd.struct_passwd, *command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(command), **demoted(user), **kwargs)


def cannot(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the container entrypoint test: {reason}")
    pytest.skip(reason)


@pytest.fixture
def user() -> pwd.struct_passwd:
    if os.geteuid() != 0:
        cannot("needs root to run the entrypoint as an unprivileged user")
    found = unprivileged_user()
    if found is None:
        cannot("no unprivileged user and no useradd")
    return found  # type: ignore[return-value]


def system_python(user: pwd.struct_passwd) -> str:
    """A Python >= 3.11 with venv that ``user`` can run."""
    probe = "import sys, venv; sys.exit(sys.version_info < (3, 11))"
    for python in SYSTEM_PYTHONS:
        if Path(python).exists() and as_user(user, python, "-c", probe).returncode == 0:
            return python
    cannot(f"no Python >= 3.11 with venv runnable by {user.pw_name} in {SYSTEM_PYTHONS}")
    raise AssertionError  # unreachable


def test_entrypoint_runs_as_non_root_from_a_fresh_wheel(user):
    python = system_python(user)
    tmp_path = Path(tempfile.mkdtemp(prefix="annexa-entrypoint-"))  # pytest's tmp is 0700
    tmp_path.chmod(0o755)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "-w", str(wheels), str(ROOT)],
        check=True, timeout=300,
    )  # fmt: skip
    for wheel in wheels.iterdir():
        wheel.chmod(0o644)
    wheels.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, user.pw_uid, user.pw_gid)
    venv = home / "venv"
    as_user(user, python, "-m", "venv", str(venv), check=True, timeout=120)
    as_user(
        user, str(venv / "bin" / "pip"), "install", "-q",
        "--no-index", "--find-links", str(wheels), "annexa",
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, check=True, timeout=300,
    )  # fmt: skip
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, user.pw_uid, user.pw_gid)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, moto_port = server.get_host_and_port()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "AWS_ENDPOINT_URL": f"http://{host}:{moto_port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ANNEXA_DATA_DIR": str(data),
        "HOME": str(data),
        "ANNEXA_DAEMON__PORT": "0",  # the daemon binds a free port and logs it
        "ANNEXA_CHECKS": '["aws.s3.public_access_blocked"]',
        "ANNEXA_SCHEDULE__JITTER": "0",
        "ANNEXA_LOG_FORMAT": "json",
    }
    command = [str(venv / "bin" / "annexa"), "daemon", "--example-soa"]
    log = tmp_path / "daemon.log"
    with log.open("wb") as stderr:
        daemon = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=stderr, **demoted(user)
        )
    try:
        port = logged_port(daemon, log, 180)
        deadline = time.monotonic() + 180  # a bound for a loaded machine, not a timing
        health = None
        while time.monotonic() < deadline and health is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = json.loads(r.read())
            except OSError:
                assert daemon.poll() is None, log.read_text()[-2000:]
                time.sleep(0.3)
        assert health and health["role"] == "leader", health
        url = f"sqlite:///{data / 'annexa.sqlite'}"
        while time.monotonic() < deadline:
            with EvidenceStore.open(url) as store:
                if store.count():
                    break
            time.sleep(0.3)
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    finally:
        daemon.kill()
        server.stop()
    assert (data / "annexa.sqlite").stat().st_uid == user.pw_uid  # written by the user
    with EvidenceStore.open(url) as store:
        assert store.count() >= 1 and store.runs()[0].outcome == "complete"
    shutil.rmtree(tmp_path, ignore_errors=True)
