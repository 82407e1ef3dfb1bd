"""Real brokers for the Celery executor's tests: a private ``redis-server`` per test (on a free
port, with an append-only file, so a test can stop and restart it with its queue intact), and
the machine's RabbitMQ with a unique queue prefix whose queues are deleted afterwards."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection

RABBIT_URL = os.environ.get("ANNEXA_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A redis-server child: ``stop()`` (SIGTERM: the append-only file is flushed) and
    ``start()`` again on the same port and directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = _free_port()
        self.child: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        args = [exe, "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        args += ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.directory)]
        log = (self.directory / "redis.log").open("ab")
        self.child = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.child.poll() is not None:
                raise AssertionError(f"redis-server exited: {self.child.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not answer PING")

    def stop(self) -> None:
        if self.child is not None and self.child.poll() is None:
            self.child.terminate()
            self.child.wait(30)
        self.child = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.directory.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def rabbit_prefix() -> Iterator[str]:
    """A queue prefix no other test uses on the machine's RabbitMQ; its queues (and their
    exchanges) are deleted afterwards."""
    prefix = f"annexa-test-{uuid.uuid4().hex[:12]}."
    yield prefix
    from collector.providers import RESOLVERS

    with Connection(RABBIT_URL, connect_timeout=5) as conn:
        channel = conn.channel()
        for name in [*RESOLVERS, "default"]:
            for delete in (channel.queue_delete, channel.exchange_delete):
                try:
                    delete(f"{prefix}{name}")
                except Exception:
                    channel = conn.channel()  # a missing entity closes the channel
