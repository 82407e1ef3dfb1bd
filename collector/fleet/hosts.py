"""Fleet hosts and global policies with their per-host results.

Per-host policy results come from listing, for each policy, the hosts passing and failing it
(``/hosts?policy_id=..&policy_response=passing|failing``): 2 x policies x pages calls, far
fewer than one host-detail call per host once a fleet has more hosts than policies.
"""

from __future__ import annotations

from typing import Any

from checks.fleet.models import (
    FleetAntimalware,
    FleetControlPolicy,
    FleetDiskEncryption,
    FleetFirewall,
    FleetHost,
    FleetHosts,
    FleetLocalAdmins,
    FleetOsUpdates,
    FleetPolicies,
    FleetPolicy,
    FleetScreenLock,
    FleetTimeSync,
)
from collector.collect import collects
from collector.http import ApiScope, MalformedResponse, PageNumber
from collector.settings import FleetSettings

#: Fleet's read-only global role: it can read hosts and policies.
OBSERVER = ("fleet:observer",)
HOSTS = "/api/v1/fleet/hosts"
POLICIES = "/api/v1/fleet/global/policies"

Scope = ApiScope[FleetSettings]


class FleetPolicyNotFound(Exception):
    """A control's policy is not configured, or names no policy on the Fleet server."""


def _paging(scope: Scope) -> PageNumber:
    return PageNumber(items_key="hosts", per_page=scope.settings.per_page)


@collects(FleetHosts, permissions=OBSERVER)
def hosts(scope: Scope) -> FleetHosts:
    """Every host with platform and OS version."""
    answer = scope.api.list(HOSTS, paging=_paging(scope), requires="observer role")
    return FleetHosts(server=scope.target.account, hosts=tuple(_host(h) for h in answer))


def _host(item: dict[str, Any]) -> FleetHost:
    return FleetHost(
        id=item["id"],
        hostname=item.get("display_name") or item.get("hostname") or str(item["id"]),
        platform=item.get("platform") or "unknown",
        os_version=item.get("os_version") or "",
    )


@collects(FleetDiskEncryption, permissions=OBSERVER)
def disk_encryption(scope: Scope) -> FleetDiskEncryption:
    """``disk_encryption_enabled`` of every host, one ``GET /hosts/{id}`` each: Fleet returns
    it only in a host's details. A detail answer without the field is malformed."""
    listed = scope.get(FleetHosts)
    encrypted: dict[int, bool | None] = {}
    for host in listed.hosts:
        path = f"{HOSTS}/{host.id}"
        detail = scope.api.get(path, requires="observer role").get("host")
        if not isinstance(detail, dict) or "disk_encryption_enabled" not in detail:
            raise MalformedResponse(f"GET {path}", "no host.disk_encryption_enabled")
        value = detail["disk_encryption_enabled"]
        encrypted[host.id] = value if isinstance(value, bool) else None
    return FleetDiskEncryption(server=listed.server, hosts=listed.hosts, encrypted=encrypted)


@collects(FleetPolicies, permissions=OBSERVER)
def policies(scope: Scope) -> FleetPolicies:
    """Global policies with the ids of the hosts passing and failing each."""
    listed = scope.api.get(POLICIES, requires="observer role").get("policies")
    if not isinstance(listed, list) or not all(isinstance(p, dict) for p in listed):
        raise MalformedResponse(f"GET {POLICIES}", "'policies' is not a list of objects")
    return FleetPolicies(policies=tuple(_policy(scope, p) for p in listed))


def _policy(scope: Scope, item: dict[str, Any]) -> FleetPolicy:
    def host_ids(response: str) -> tuple[int, ...]:
        params = {"policy_id": str(item["id"]), "policy_response": response}
        found = scope.api.list(
            HOSTS, paging=_paging(scope), params=params, requires="observer role"
        )
        return tuple(sorted(h["id"] for h in found))

    platforms = [p.strip() for p in str(item.get("platform") or "").split(",")]
    return FleetPolicy(
        id=item["id"],
        name=item.get("name") or str(item["id"]),
        platforms=tuple(p for p in platforms if p),
        passing=host_ids("passing"),
        failing=host_ids("failing"),
    )


def _control(scope: Scope, kind: type[FleetControlPolicy], control: str) -> Any:
    wanted = getattr(scope.settings.policies, control)
    setting = f"fleet.policies.{control}"
    if wanted is None:
        raise FleetPolicyNotFound(
            f"{setting} is not configured: set it to the name or id of the Fleet policy that "
            "checks this control"
        )
    for policy in scope.get(FleetPolicies).policies:
        if str(wanted) in (str(policy.id), policy.name):
            return kind(control=control, policy=policy)
    raise FleetPolicyNotFound(
        f"Fleet policy {wanted!r} ({setting}) does not exist on {scope.target.account}"
    )


def _policy_collector(kind: type[FleetControlPolicy], control: str) -> Any:
    """The collector of ``kind``: the policy ``fleet.policies.<control>`` names."""

    def collect(scope: Scope) -> Any:
        return _control(scope, kind, control)

    collect.__name__ = collect.__qualname__ = control
    collect.__doc__ = f"The policy ``fleet.policies.{control}`` names."
    return collects(kind, permissions=OBSERVER)(collect)


screen_lock = _policy_collector(FleetScreenLock, "screen_lock")
firewall = _policy_collector(FleetFirewall, "firewall")
antimalware = _policy_collector(FleetAntimalware, "antimalware")
os_updates = _policy_collector(FleetOsUpdates, "os_updates")
time_sync = _policy_collector(FleetTimeSync, "time_sync")
local_admins = _policy_collector(FleetLocalAdmins, "local_admins")
