"""API rate limits of the HTTP providers, shared across workers through the shared client
(collector/http.py) in a real Redis: two worker processes sharing one limit never send more
than it together; while the storage is unreachable, requests go out unlimited with a warning.

The API is a real HTTP server answering Fleet's recorded pages (tests/fleet/recordings:
``GET /api/v1/fleet/me``, ``GET /api/v1/fleet/hosts?page=&per_page=``, fleetdm.com/docs/
rest-api/rest-api: three pages, the last empty, no ``meta``), called by the real httpx client
through the Fleet provider's own resolver and collector.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from structlog.testing import capture_logs

from collector.collect import Target
from collector.fleet.accounts import resolve_accounts
from collector.fleet.hosts import hosts
from collector.http import set_request_gate
from collector.settings import CelerySettings, FleetSettings
from collector.worker.ratelimit import ApiRateLimiter
from tests.worker import LocalServer, Waited, refuse, send_json

pytestmark = [pytest.mark.broker]

RECORDINGS = Path(__file__).parents[1] / "fleet" / "recordings"
TOKEN = {"FLEET_API_TOKEN": "fleet-test-token"}


class FleetApi(LocalServer):
    """A Fleet server answering the recorded pages; ``requests`` lists what it was sent."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        super().__init__(self._answer)

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        self.requests.append(handler.path)
        parts = urlsplit(handler.path)
        name = {"/api/v1/fleet/me": "me", "/api/v1/fleet/hosts": "hosts_page"}.get(parts.path)
        if name == "hosts_page":
            name += parse_qs(parts.query)["page"][0]
        path = RECORDINGS / f"{name}.json"
        if name is None or not path.exists():
            send_json(handler, 404, b'{"message": "Resource Not Found"}')
        else:
            send_json(handler, 200, path.read_bytes())


@pytest.fixture
def fleet_api() -> Iterator[FleetApi]:
    api = FleetApi()
    try:
        yield api
    finally:
        api.close()


#: One worker: resolve the Fleet server (its credential probe is a request too), then collect
#: its hosts again and again until a request has to wait for a slot (or 20 times: unlimited).
WORKER = """
import json, os, sys
from collector.collect import Target
from collector.fleet.accounts import resolve_accounts
from collector.fleet.hosts import hosts
from collector.settings import CelerySettings, FleetSettings
from collector.worker.ratelimit import ApiRateLimiter

class Waited(Exception):
    pass

def refuse(_):
    raise Waited

redis_url, fleet_url, limit = sys.argv[1:]
settings = CelerySettings(broker_url=redis_url, rate_limits={"fleet:api": limit})
ApiRateLimiter(settings, sleep=refuse).install()
(account,) = resolve_accounts(FleetSettings(base_url=fleet_url), environ=os.environ)
collections = 0
if account.error is None:
    scope = account.make_scope(Target("fleet", account.account, None), None)
    try:
        while collections < 20:
            hosts(scope)
            collections += 1
    except Waited:
        pass
print(json.dumps({"error": account.error, "collections": collections}))
"""


def test_two_workers_sharing_a_limit_never_exceed_it_together(redis_server, fleet_api):
    limit = 10  # per hour: the window cannot pass while the test runs
    args = [redis_server.url, fleet_api.url, f"{limit}/hour"]
    children = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, *args],
            stdout=subprocess.PIPE,
            text=True,
            env=os.environ | TOKEN,
        )
        for _ in range(2)
    ]
    outputs = [json.loads(child.communicate(timeout=120)[0]) for child in children]
    assert [child.returncode for child in children] == [0, 0]
    # each worker alone would send `limit` requests before waiting: together they sent it once
    assert len(fleet_api.requests) == limit
    assert all(o["error"] is None or "Waited" in o["error"] for o in outputs)
    # another limiter on the same Redis finds the window spent
    other = ApiRateLimiter(
        CelerySettings(broker_url=redis_server.url, rate_limits={"fleet:api": f"{limit}/hour"})
    )
    server = urlsplit(fleet_api.url).netloc
    assert not other.try_acquire("fleet", server, "api")
    assert other.try_acquire("fleet", "fleet.other.example", "api")  # another server


@pytest.fixture
def gate() -> Iterator[None]:
    try:
        yield
    finally:
        set_request_gate(None)


def test_requests_go_out_unlimited_while_the_storage_is_unreachable(redis_server, fleet_api, gate):
    settings = CelerySettings(broker_url=redis_server.url, rate_limits={"fleet:api": "2/hour"})
    ApiRateLimiter(settings, sleep=refuse).install()
    (account,) = resolve_accounts(FleetSettings(base_url=fleet_api.url), environ=TOKEN)
    assert account.error is None  # the probe took one of the two slots
    scope = account.make_scope(Target("fleet", account.account, None), None)
    with pytest.raises(Waited):  # page 0 takes the second; page 1 must wait
        hosts(scope)
    assert len(fleet_api.requests) == 2

    redis_server.stop()  # a broker outage must not turn evidence into ERROR
    with capture_logs() as logs:
        first, second = hosts(scope), hosts(scope)
    assert len(first.hosts) == len(second.hosts) == 4
    assert len(fleet_api.requests) == 2 + 6  # every page went out
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [e["event"] for e in warnings] == ["rate limit storage unreachable; calls unlimited"]
    assert "Connection" in warnings[0]["cause"] or "connect" in warnings[0]["cause"]
