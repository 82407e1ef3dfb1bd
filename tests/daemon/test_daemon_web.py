"""The daemon serving the web console (``daemon.web``): the same application as ``annexa serve``
on the daemon's one HTTP server, beside ``/healthz``, ``/livez`` and ``/metrics``; pages need a
sign-in, the probes do not, and beyond loopback it refuses to start without a way to sign in."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
import yaml
from structlog.testing import capture_logs

from collector.daemon import Daemon
from collector.errors import UserError
from collector.settings import Settings, load_settings
from tests.daemon import aws_fixture, running, wait_for  # noqa: F401
from tests.web.conftest import FAILING, TOKENS, seed, write_config

S3 = "aws.s3.public_access_blocked"


def _settings(tmp_path: Path, url: str, *, web: bool) -> Settings:
    """The web tests' config (tokens per role, no anonymous role) plus a daemon section."""
    config = write_config(tmp_path, url, anonymous_role=None)
    seed(url, config)
    data = yaml.safe_load(config.read_text())
    data |= {
        "checks": [S3],
        "daemon": {"host": "127.0.0.1", "port": 0, "web": web},
        "schedule": {"intervals": {S3: "1h"}, "jitter": 0},
        "aws": {"regions": "session"},
    }
    config.write_text(yaml.safe_dump(data))
    return load_settings(config)


def _get(port: int, path: str, token: str | None = None, method: str = "GET"):
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read().decode()


@pytest.mark.usefixtures("aws")
def test_daemon_serves_the_console_with_sign_in_beside_its_probes(tmp_path, store_url):
    # the daemon's own first run finds this bucket open: its console shows what it collected
    # (the seeded history's failing check and region lie outside the daemon's scope)
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=FAILING.rsplit(":", 1)[1])
    daemon = Daemon(_settings(tmp_path, store_url, web=True))
    with running(daemon):
        port = daemon.port
        code, _, body = _get(port, "/healthz")
        assert code in (200, 503) and json.loads(body)["role"] in ("leader", "standby")
        assert _get(port, "/livez")[0] == 200
        code, headers, body = _get(port, "/metrics")
        assert code == 200 and "annexa_controls" in body
        assert headers["content-type"].startswith("text/plain")
        # the console: nothing without a sign-in, the pages with a token
        code, _, body = _get(port, "/")
        assert code == 401 and "Sign in first" in body
        assert _get(port, "/controls/A.8.3")[0] == 401
        wait_for(lambda: FAILING in _get(port, "/controls/A.8.3", TOKENS["viewer"])[2])
        code, headers, body = _get(port, "/controls/A.8.3", TOKENS["viewer"])
        assert code == 200 and FAILING in body
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        # a viewer may not write, whatever the server
        assert _get(port, "/exceptions", TOKENS["viewer"], method="POST")[0] == 403


@pytest.mark.usefixtures("aws")
def test_daemon_without_web_serves_no_console(tmp_path, store_url):
    daemon = Daemon(_settings(tmp_path, store_url, web=False))
    with running(daemon):
        assert _get(daemon.port, "/", TOKENS["viewer"])[0] == 404
        assert _get(daemon.port, "/healthz")[0] in (200, 503)


def test_daemon_refuses_the_console_beyond_loopback_without_sign_in(tmp_path, store_url):
    config = tmp_path / "annexa.yaml"
    config.write_text(
        yaml.safe_dump(
            {"database_url": store_url, "daemon": {"host": "0.0.0.0", "port": 0, "web": True}}
        )
    )
    with pytest.raises(UserError, match=r"refusing to serve on 0\.0\.0\.0 without authentication"):
        Daemon(load_settings(config))


@pytest.mark.usefixtures("aws")
def test_daemon_makes_the_consoles_reads_when_it_starts(tmp_path, store_url):
    """The console is created, and its overview's reads made, when the daemon starts: before
    anyone asks for a page."""
    daemon = Daemon(_settings(tmp_path, store_url, web=True))
    with capture_logs() as logs, running(daemon):
        wait_for(lambda: any(e["event"] == "console read at start" for e in logs))
        code, _, body = _get(daemon.port, "/controls/A.8.3", TOKENS["viewer"])
        assert code == 200 and "A.8.3" in body
