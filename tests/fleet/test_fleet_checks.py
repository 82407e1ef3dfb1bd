"""Fleet checks on a recorded server through the real httpx client: hosts paged by
``page``/``per_page``, each policy's passing and failing hosts, configured control policies."""

from __future__ import annotations

import pytest
import respx

from checks.fleet import hosts as checks
from checks.fleet.models import (
    FleetAntimalware,
    FleetDiskEncryption,
    FleetFirewall,
    FleetHosts,
    FleetLocalAdmins,
    FleetOsUpdates,
    FleetPolicies,
    FleetScreenLock,
    FleetTimeSync,
)
from checks.testing import findings, verdicts
from collector.causes import describe_error
from collector.collect import Target
from collector.fleet.accounts import resolve_accounts
from collector.registry import load_registry
from collector.snapshots import SnapshotCache
from tests.fleet.wire import ENVIRON, NOW, SERVER, SETTINGS, serve_fleet

REGISTRY = load_registry(entry_point_packs=False)
INPUTS = {
    checks.policies_passing: (FleetPolicies, FleetHosts),
    checks.disk_encrypted: (FleetDiskEncryption,),
    checks.screen_lock: (FleetScreenLock, FleetHosts),
    checks.firewall_enabled: (FleetFirewall, FleetHosts),
    checks.antimalware_enabled: (FleetAntimalware, FleetHosts),
    checks.os_updated: (FleetOsUpdates, FleetHosts),
    checks.time_synced: (FleetTimeSync, FleetHosts),
    checks.local_admins_allowed: (FleetLocalAdmins, FleetHosts),
}


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


def fleet_cache(settings=SETTINGS) -> SnapshotCache:
    (account,) = resolve_accounts(settings, environ=ENVIRON, clock=lambda: NOW, sleep=[].append)
    assert account.error is None and account.make_scope is not None
    return SnapshotCache(REGISTRY.collectors, account.make_scope)


def judge(check, cache: SnapshotCache) -> set[tuple[str, bool]]:
    return verdicts(check, *(cache.get(kind, Target("fleet", SERVER)) for kind in INPUTS[check]))


EXPECTED = {
    checks.policies_passing: {
        ("mac-ann/Screen lock enabled", True),
        ("win-bob/Screen lock enabled", False),
        ("mac-ann/Firewall enabled", True),
        ("win-bob/Firewall enabled", False),
        ("ubuntu-carol/Firewall enabled", True),  # no platform: every host but the iPad
        ("win-bob/Antivirus running", True),
        ("mac-ann/macOS up to date", False),
        ("mac-ann/Gatekeeper enabled", False),  # no result yet
        ("win-bob/Time synchronization on", True),
        ("ubuntu-carol/Time synchronization on", False),
        ("mac-ann/Local admins allow-listed", True),
        ("win-bob/Local admins allow-listed", False),  # no result yet
    },
    checks.screen_lock: {("mac-ann", True), ("win-bob", False)},
    checks.firewall_enabled: {("mac-ann", True), ("win-bob", False), ("ubuntu-carol", True)},
    checks.antimalware_enabled: {("win-bob", True)},
    checks.os_updated: {("mac-ann", False)},
    checks.time_synced: {("win-bob", True), ("ubuntu-carol", False)},  # not mac-ann: platforms
    checks.local_admins_allowed: {("mac-ann", True), ("win-bob", False)},
}


@pytest.mark.parametrize("check", EXPECTED, ids=lambda c: c.__name__)
def test_checks_on_recorded_server(api, check):
    serve_fleet(api)
    assert judge(check, fleet_cache()) == EXPECTED[check]


def test_disk_encryption_read_from_host_details_and_null_is_an_error(api):
    """The host list carries no ``disk_encryption_enabled``; each host's details do, and
    ubuntu-carol's is null: unknown, so the check errors naming it instead of failing it."""
    serve_fleet(api)
    disks = fleet_cache().get(FleetDiskEncryption, Target("fleet", SERVER))
    assert disks.encrypted == {1: True, 2: False, 3: None, 4: True}
    with pytest.raises(
        checks.UnknownEncryption,
        match=r"no disk encryption status for 1 host\(s\): ubuntu-carol$",
    ):
        verdicts(checks.disk_encrypted, disks)
    known = disks.model_copy(update={"encrypted": disks.encrypted | {3: False}})
    assert verdicts(checks.disk_encrypted, known) == {
        ("mac-ann", True),
        ("win-bob", False),
        ("ubuntu-carol", False),
        ("ipad-dave", True),
    }


def test_controls_follow_the_configured_policy(api):
    """The same control checks pass or fail with the policy the config names."""
    serve_fleet(api)
    swapped = SETTINGS.policies.model_copy(
        update={"antimalware": "Gatekeeper enabled", "os_updates": 3}
    )
    cache = fleet_cache(SETTINGS.model_copy(update={"policies": swapped}))
    assert judge(checks.antimalware_enabled, cache) == {("mac-ann", False)}
    assert judge(checks.os_updated, cache) == {("win-bob", True)}


def test_paging_and_call_count(api):
    routes = serve_fleet(api)
    cache = fleet_cache()
    for check in INPUTS:
        if check is not checks.disk_encrypted:
            judge(check, cache)
    queries = [dict(c.request.url.params) for c in routes["hosts"].calls]
    unfiltered = [q["page"] for q in queries if "policy_id" not in q]
    assert unfiltered == ["0", "1", "2"]  # two full pages of two, then an empty one
    assert all(q["per_page"] == "2" for q in queries)
    # Fleet sends no ``meta`` here, so every list reads on to an empty page: of the 14
    # policy x passing/failing lists, the 9 with hosts (1 or 2, one page) take 2 calls each, the
    # 5 empty ones 1
    assert len(queries) == 3 + 9 * 2 + 5
    assert routes["policies"].call_count == 1  # shared by all seven policy checks
    auth = routes["hosts"].calls[0].request.headers["Authorization"]
    assert auth == "Bearer example-fleet-api-token"


def test_unknown_configured_policy_is_an_error_naming_it(api):
    serve_fleet(api)
    missing = SETTINGS.policies.model_copy(update={"firewall": "Host firewall on"})
    cache = fleet_cache(SETTINGS.model_copy(update={"policies": missing}))
    with pytest.raises(Exception) as caught:
        cache.get(FleetFirewall, Target("fleet", SERVER))
    assert describe_error(caught.value) == (
        "FleetPolicyNotFound: Fleet policy 'Host firewall on' (fleet.policies.firewall) does not "
        "exist on fleet.example.com"
    )
    assert judge(checks.screen_lock, cache)  # the other controls still resolve


def test_unconfigured_control_is_an_error(api):
    serve_fleet(api)
    cache = fleet_cache(
        SETTINGS.model_copy(
            update={"policies": SETTINGS.policies.model_copy(update={"screen_lock": None})}
        )
    )
    with pytest.raises(Exception) as caught:
        cache.get(FleetScreenLock, Target("fleet", SERVER))
    assert describe_error(caught.value).startswith(
        "FleetPolicyNotFound: fleet.policies.screen_lock is not configured"
    )


def test_no_result_message(api):
    serve_fleet(api)
    cache = fleet_cache()
    messages = {
        f.resource: f.message
        for f in findings(
            checks.policies_passing,
            cache.get(FleetPolicies, Target("fleet", SERVER)),
            cache.get(FleetHosts, Target("fleet", SERVER)),
        )
    }
    assert messages["mac-ann/Gatekeeper enabled"] == (
        "mac-ann (darwin) has no result yet for policy 'Gatekeeper enabled'"
    )
