"""HTTP providers' 429s reach ``annexa_api_throttled{provider=...}``: the daemon hands an
observer to the provider's resolver hook, which passes it into the HttpClient it builds."""

from __future__ import annotations

import urllib.request

import httpx
import respx

from collector.daemon import Daemon
from storage import EvidenceStore
from tests.daemon import running, settings, wait_for
from tests.okta.wire import ENVIRON, SETTINGS, answer, serve_org, url

CHECK = "okta.users.inactive_deactivated"


def records(store_url: str) -> list:
    with EvidenceStore.open(store_url) as store:
        return store.history(check_ids=[CHECK], limit=None)


def test_okta_429_is_counted_once_under_its_provider(sqlite_url, monkeypatch):
    for name, value in ENVIRON.items():
        monkeypatch.setenv(name, value)
    throttled = answer("error_rate_limit", 429, **{"X-Rate-Limit-Reset": "0"})  # wait 0 s
    unavailable = httpx.Response(503, headers={"Retry-After": "0"})  # retried, not throttling
    config = settings(sqlite_url, [CHECK], {CHECK: "1h"}, okta=SETTINGS)
    with respx.mock(assert_all_called=False) as api:
        users = api.get(url("/api/v1/users"), params={"limit": "200"}).mock(
            side_effect=[throttled, unavailable, answer("users_page1")]
        )
        serve_org(api)  # after: the first matching route answers
        daemon = Daemon(config, poll=0.1)
        with running(daemon):
            (record,) = wait_for(lambda: records(sqlite_url))
            with urllib.request.urlopen(f"http://127.0.0.1:{daemon.port}/metrics") as r:
                metrics = r.read().decode()
    assert users.call_count == 3
    assert record.status in ("pass", "fail"), record.error  # retried through to an answer
    assert 'annexa_api_throttled_total{provider="okta"} 1.0' in metrics
    assert 'provider="aws"' not in metrics
