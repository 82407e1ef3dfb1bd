"""Fleet failures through the real client (rejected or missing token, denied role, 429 with
Retry-After, malformed pages); and one run over two providers where Okta's token is rejected:
ERROR for the Okta checks only, the Fleet checks judged as usual."""

from __future__ import annotations

import httpx
import pytest
import respx

from checks.fleet.models import FleetHosts
from collector.causes import describe_error
from collector.collect import Target
from collector.fleet.accounts import resolve_accounts
from collector.http import ApiError, MalformedResponse
from collector.okta.accounts import resolve_accounts as okta_accounts
from collector.registry import load_registry
from collector.runner import Runner
from collector.snapshots import SnapshotCache
from storage import EvidenceStore
from tests.fleet.wire import ENVIRON, NOW, SERVER, SETTINGS, answer, serve_fleet, url
from tests.okta import wire as okta

REGISTRY = load_registry(entry_point_packs=False)
HOSTS = url("/api/v1/fleet/hosts")


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


def collect_hosts(sleeps: list[float] | None = None) -> FleetHosts:
    (account,) = resolve_accounts(
        SETTINGS, environ=ENVIRON, sleep=(sleeps if sleeps is not None else []).append
    )
    assert account.make_scope is not None, account.error
    cache = SnapshotCache(REGISTRY.collectors, account.make_scope)
    return cache.get(FleetHosts, Target("fleet", SERVER))


def test_rejected_token_is_an_account_error(api):
    api.get(url("/api/v1/fleet/me")).mock(return_value=answer("error_unauthenticated", 401))
    (account,) = resolve_accounts(SETTINGS, environ=ENVIRON)
    assert (account.account, account.make_scope) == (SERVER, None)
    assert account.error == (
        "cannot access Fleet fleet.example.com: HTTP 401 Unauthorized on GET /api/v1/fleet/me: "
        "Authentication required"
    )


def test_missing_token_variable_is_an_account_error():
    (account,) = resolve_accounts(SETTINGS, environ={})
    assert account.error == (
        "cannot access Fleet fleet.example.com: environment variable FLEET_TEST_TOKEN is not set"
    )


def test_not_configured_means_no_account():
    assert resolve_accounts(SETTINGS.model_copy(update={"base_url": None}), environ=ENVIRON) == []


def test_forbidden_names_the_role(api):
    api.get(HOSTS, params={"page": "0"}).mock(return_value=answer("error_forbidden", 403))
    serve_fleet(api)
    with pytest.raises(ApiError) as denied:
        collect_hosts()
    assert describe_error(denied.value) == (
        "HTTP 403 Forbidden on GET /api/v1/fleet/hosts: forbidden (missing permission: "
        "observer role)"
    )


def test_429_waits_for_retry_after(api):
    throttled = answer("error_rate_limited", 429, **{"Retry-After": "3"})
    api.get(HOSTS, params={"page": "1"}).mock(side_effect=[throttled, answer("hosts_page1")])
    serve_fleet(api)
    sleeps: list[float] = []
    hosts = collect_hosts(sleeps)
    assert sleeps == [3.0]
    assert [h.hostname for h in hosts.hosts] == ["mac-ann", "win-bob", "ubuntu-carol", "ipad-dave"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"hosts": None}, "'hosts' is not a list of objects"),
        ({"host": []}, "'hosts' is not a list of objects"),
        ([], "not a JSON object"),
    ],
)
def test_malformed_page_is_an_error(api, body, problem):
    api.get(HOSTS, params={"page": "1"}).mock(return_value=httpx.Response(200, json=body))
    serve_fleet(api)
    with pytest.raises(MalformedResponse, match=problem):
        collect_hosts()


def test_rejected_okta_token_is_error_for_okta_checks_only(api, tmp_path):
    serve_fleet(api)
    api.get(okta.url("/api/v1/users")).mock(return_value=okta.answer("error_invalid_token", 401))
    accounts = [
        *okta_accounts(okta.SETTINGS, environ=okta.ENVIRON, clock=lambda: NOW),
        *resolve_accounts(SETTINGS, environ=ENVIRON, clock=lambda: NOW),
    ]
    checks = [c for c in REGISTRY.checks.values() if c.provider in ("okta", "fleet")]
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'evidence.sqlite'}") as store:
        result = Runner(REGISTRY, store, clock=lambda: NOW).run(checks, accounts)
    status = {r.check_id: (r.status, r.target_key, r.error) for r in result.records}
    assert len(status) == len(checks) == 15
    rejected = (
        "cannot access Okta org example.okta.com: HTTP 401 E0000011 on GET /api/v1/users: "
        "Invalid token provided"
    )
    assert {k: v for k, v in status.items() if k.startswith("okta.")} == {
        check: ("error", "okta:example.okta.com", rejected)
        for check in (
            "okta.admins.listed",
            "okta.policies.mfa_required",
            "okta.policies.password_strength",
            "okta.users.inactive_deactivated",
            "okta.users.mfa_enrolled",
        )
    }
    assert {k: v[0] for k, v in status.items() if k.startswith("fleet.")} == {
        "fleet.policies.passing": "fail",
        "fleet.hosts.disk_encrypted": "error",  # ubuntu-carol: no status from Fleet
        "fleet.hosts.screen_lock": "fail",
        "fleet.hosts.firewall_enabled": "fail",
        "fleet.hosts.antimalware_enabled": "pass",
        "fleet.hosts.os_updated": "fail",
        "fleet.hosts.time_synced": "fail",
        "fleet.hosts.local_admins_allowed": "fail",
        "fleet.software.denied_absent": "fail",  # uTorrent
        "fleet.vulnerabilities.within_deadline": "fail",
    }
