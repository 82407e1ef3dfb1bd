"""Daemon tests: helpers shared by the test_daemon_* modules."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from moto import mock_aws

from collector.daemon import Daemon
from collector.settings import Settings


def settings(url: str, checks: list[str], intervals: dict[str, Any], **extra: Any) -> Settings:
    """Daemon settings on ``url``: only ``checks``, sub-second intervals, no jitter."""
    schedule = {"intervals": intervals, "jitter": 0, "stagger": 0.1, "grace_period": 5}
    schedule |= extra.pop("schedule", {})
    extra.setdefault("aws", {"regions": "session"})  # one region: the tests stay fast
    return Settings(
        database_url=url,
        checks=checks,
        schedule=schedule,
        daemon={"port": 0},
        **extra,
    )


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, step: float = 0.05) -> Any:
    """``predicate()``'s first truthy value; the timeout only bounds a hang (it returns as soon
    as the event happens), so it is generous for a loaded machine."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {predicate}")


def logged_port(child: subprocess.Popen, log: Path, timeout: float = 60.0) -> int:
    """The health port a daemon child bound itself (configured as 0), from the "daemon
    started" line of its JSON log: no port is picked here, closed and handed over."""

    def started() -> int | None:
        if child.poll() is not None:
            raise AssertionError(f"daemon exited {child.returncode}: {log.read_text()[-2000:]}")
        for line in log.read_text().splitlines():
            entry = json.loads(line) if line.startswith("{") else {}
            if entry.get("event") == "daemon started":
                return urlsplit(entry["health"]).port
        return None

    return wait_for(started, timeout)


@contextmanager
def running(daemon: Daemon) -> Iterator[Daemon]:
    """``daemon.run()`` on a thread until the block ends; asserts it stopped with 0."""
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(daemon.run()), daemon=True)
    thread.start()
    try:
        wait_for(lambda: daemon.scheduler_alive)
        yield daemon
    finally:
        daemon.request_stop()
        thread.join(30)
        assert result == [0], "daemon did not stop cleanly"


class WebhookServer:
    """A real HTTP server on 127.0.0.1 recording POSTed JSON; ``script`` says how each
    request is answered in turn ("ok", "500", or "hang": held, ``holding`` counting it, until
    ``release`` is set or ``hang`` seconds pass, then closed without an answer)."""

    def __init__(self, script: list[str] | None = None, hang: float = 2.0) -> None:
        self.payloads: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.script = list(script or [])
        self.holding = 0
        self.release = threading.Event()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                action = recorder.script.pop(0) if recorder.script else "ok"
                if action == "hang":
                    recorder.holding += 1
                    recorder.release.wait(hang)
                    recorder.holding -= 1
                    return
                recorder.paths.append(self.path)
                recorder.payloads.append(json.loads(body))
                code = 500 if action == "500" else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, path: str = "/hook/T0SECRET/xyz?token=s3cr3t") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{path}"

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(name="aws")
def aws_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """An active moto mock with fake credentials (as tests/aws's fixture)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield
