"""Celery executor tests: helpers for real worker subprocesses and a slow API in front of moto."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from sqlalchemy import create_engine, text

from tests.aws.console import annexa_env

S3 = "aws.s3.public_access_blocked"
ACCOUNT = "123456789012"  # moto's default account


class LocalServer:
    """A real HTTP/1.1 server on 127.0.0.1 (any free port) whose ``answer(handler)`` answers
    every request."""

    def __init__(self, answer: Callable[[BaseHTTPRequestHandler], None]) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                answer(self)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = _answer

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def send_json(
    handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None
) -> None:
    """Answer ``handler``'s request with ``body`` (JSON unless ``headers`` say otherwise)."""
    headers = dict(headers or {})
    if not any(key.lower() == "content-type" for key in headers):
        headers = {"Content-Type": "application/json", **headers}
    handler.send_response(status)
    for key, value in headers.items():
        handler.send_header(key, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class HoldingProxy(LocalServer):
    """A real HTTP proxy in front of a moto server that holds every S3 ListBuckets (``GET /``)
    while ``holding`` is set, counting the requests it holds: a worker is then mid-task for as
    long as the test wants."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.release = threading.Event()
        self.held = 0
        self.list_buckets = 0
        super().__init__(self._forward)

    def _forward(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0) or 0))
        if handler.command == "GET" and handler.path == "/":
            self.list_buckets += 1
            self.held += 1
            self.release.wait(120)
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers = {k: v for k, v in handler.headers.items() if k.lower() != "host"}
        conn.request(handler.command, handler.path, body=body or None, headers=headers)
        answer = conn.getresponse()
        payload = answer.read()
        kept = {
            key: value
            for key, value in answer.getheaders()
            if key.lower() not in ("transfer-encoding", "content-length", "connection")
        }
        send_json(handler, answer.status, payload, kept)
        conn.close()

    def close(self) -> None:
        self.release.set()
        super().close()


class Waited(Exception):
    """Raised by a rate limiter's sleep: the call had to wait for a slot."""


def refuse(_: float) -> None:
    """A rate limiter's sleep that refuses to wait."""
    raise Waited


def write_config(tmp: Path, database_url: str, broker_url: str, prefix: str, **extra: Any) -> Path:
    """The config leader and workers share: the S3 check, executor celery."""
    config = tmp / "annexa.yaml"
    data = {
        "database_url": database_url,
        "checks": [S3],
        "executor": "celery",
        "celery": {"broker_url": broker_url, "queue_prefix": prefix, "visibility_timeout": 30},
    } | extra
    config.write_text(yaml.safe_dump(data))
    return config


class Worker:
    """``annexa worker`` as a subprocess in its own session (so SIGKILL takes the whole
    worker: the main process and its pool children)."""

    def __init__(self, config: Path, endpoint: str, tmp: Path, name: str, **options: str) -> None:
        exe = shutil.which("annexa", path=str(Path(sys.executable).parent)) or "annexa"
        env = annexa_env(endpoint, tmp / f"data-{name}", LOG_FORMAT="json")
        args = [exe, "--config", str(config), "worker", "--hostname", f"{name}@test"]
        args += [x for k, v in ({"--concurrency": "1"} | options).items() for x in (k, v)]
        self.log = tmp / f"worker-{name}.log"
        with self.log.open("wb") as log:
            self.child = subprocess.Popen(
                args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def ready(self) -> bool:
        if self.child.poll() is not None:
            raise AssertionError(f"worker exited {self.child.returncode}: {self.text()[-3000:]}")
        return '"worker ready"' in self.text()

    def kill(self) -> None:
        if self.child.poll() is None:
            os.killpg(self.child.pid, signal.SIGKILL)
            self.child.wait(30)

    def stop(self) -> None:
        if self.child.poll() is None:
            os.killpg(self.child.pid, signal.SIGTERM)
            try:
                self.child.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def job_keys(url: str) -> list[str]:
    """Every stored record's job key (None for records not collected by a worker)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT job_key FROM evidence ORDER BY id")).scalars())
    finally:
        engine.dispose()
