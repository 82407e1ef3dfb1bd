"""The health/metrics server (annexa's one HTTP server, uvicorn) under hostile clients: no thread
per connection, /healthz keeps answering, its logs in the configured format, and an address it
cannot bind is one line."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from contextlib import ExitStack, closing

import pytest

from collector.daemon.health import HealthServer, Metrics
from collector.errors import UserError
from collector.logs import configure_logging

SLOW_CLIENTS = 200  # half-sent requests held open at once (the issue saw 3,000 threads)


def _server(health=lambda: (True, {"status": "ok"})) -> HealthServer:
    return HealthServer("127.0.0.1", 0, health, Metrics(list, lambda: None))


def _get(port: int, path: str = "/healthz") -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_healthz_answers_while_slow_clients_hold_connections():
    server = _server()
    server.start()
    threads_before = threading.active_count()
    try:
        with ExitStack() as stack:
            for _ in range(SLOW_CLIENTS):
                slow = stack.enter_context(closing(socket.create_connection(server.address())))
                slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never finished
            for _ in range(3):
                code, body = _get(server.port)
                assert (code, json.loads(body)) == (200, {"status": "ok"})
            assert _get(server.port, "/metrics")[0] == 200
            # the slow clients cost sockets, not threads (the probes answer on the event loop)
            assert threading.active_count() <= threads_before
    finally:
        server.close()


def test_routes_and_methods():
    server = _server(lambda: (False, {"status": "unhealthy"}))
    server.start()
    try:
        assert _get(server.port) == (503, b'{"status": "unhealthy"}')
        assert _get(server.port, "/nope")[0] == 404
        request = urllib.request.Request(f"http://127.0.0.1:{server.port}/healthz", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 405
    finally:
        server.close()


def test_server_errors_are_logged_as_json_lines(capfd):
    configure_logging("json")

    def broken() -> tuple[bool, dict]:
        raise RuntimeError("health probe broke")

    server = _server(broken)
    server.start()
    try:
        assert _get(server.port)[0] == 500
    finally:
        server.close()
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    events = [json.loads(line) for line in lines]  # every line is one JSON object
    logged = [e for e in events if e.get("logger") == "uvicorn.error"]
    assert logged and "health probe broke" in logged[0]["exception"]


def test_busy_port_is_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match=rf"cannot listen on 127\.0\.0\.1:{port}: .*in use"):
            HealthServer("127.0.0.1", port, lambda: (True, {}), Metrics(list, lambda: None))


@pytest.mark.parametrize("host", ["999.1.1.1", "not a host"])
def test_bad_host_is_one_line(host):
    with pytest.raises(UserError, match=f"cannot listen on {host}:0"):
        HealthServer(host, 0, lambda: (True, {}), Metrics(list, lambda: None))


def test_daemon_command_on_a_bad_host_exits_2(annexa, monkeypatch):
    monkeypatch.setenv("ANNEXA_DAEMON__HOST", "999.1.1.1")
    code, _, err = annexa("daemon", "--example-soa")
    assert code == 2, err
    assert err.count("\n") == 1 and "cannot listen on 999.1.1.1:9108" in err
