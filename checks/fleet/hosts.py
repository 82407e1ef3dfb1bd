"""Fleet host checks: every policy's result per host, disk encryption, and the controls that
a configured Fleet policy checks (screen lock, firewall, anti-malware, OS updates, time
synchronisation, local administrators).

A host a policy applies to (its platform) but with no result yet fails: unknown is not a pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from checks.api import Finding, check
from checks.fleet.models import (
    FleetAntimalware,
    FleetControlPolicy,
    FleetDiskEncryption,
    FleetFirewall,
    FleetHosts,
    FleetLocalAdmins,
    FleetOsUpdates,
    FleetPolicies,
    FleetPolicy,
    FleetScreenLock,
    FleetTimeSync,
)


def _results(policy: FleetPolicy, hosts: FleetHosts, resource: str) -> Iterator[Finding]:
    passing, failing = set(policy.passing), set(policy.failing)
    for host in hosts.hosts:
        if not policy.applies_to(host):
            continue
        if host.id in passing:
            passed, verdict = True, "passes"
        elif host.id in failing:
            passed, verdict = False, "fails"
        else:
            passed, verdict = False, "has no result yet for"
        yield Finding(
            resource=resource.format(host=host.hostname, policy=policy.name),
            passed=passed,
            message=f"{host.hostname} ({host.platform}) {verdict} policy {policy.name!r}",
        )


@check(
    id="fleet.policies.passing",
    title="Every host passes every Fleet policy that applies to it",
    severity="medium",
    remediation="Fix the failing hosts (each Fleet policy's resolution text says how), or "
    "retire a policy the organisation no longer requires.",
)
def policies_passing(policies: FleetPolicies, hosts: FleetHosts) -> Iterator[Finding]:
    """One finding per host x policy (global policies; a policy's platforms decide its hosts)."""
    for policy in policies.policies:
        yield from _results(policy, hosts, "{host}/{policy}")


class UnknownEncryption(LookupError):
    """Fleet has no disk encryption status for some hosts: the check cannot judge them."""


@check(
    id="fleet.hosts.disk_encrypted",
    title="Every Fleet host has its disk encrypted",
    severity="high",
    version=2,
    remediation="Turn on FileVault, BitLocker or LUKS on the hosts listed (Fleet can enforce "
    "FileVault and BitLocker through MDM disk encryption).",
)
def disk_encrypted(disks: FleetDiskEncryption) -> Iterator[Finding]:
    """One finding per host from its details' ``disk_encryption_enabled``. A host Fleet has no
    status for (null) is unknown: the check is ERROR naming those hosts, never pass or fail."""
    unknown = [h.hostname for h in disks.hosts if disks.encrypted.get(h.id) is None]
    if unknown:
        raise UnknownEncryption(
            f"Fleet reports no disk encryption status for {len(unknown)} host(s): "
            f"{', '.join(unknown)}"
        )
    for host in disks.hosts:
        state = disks.encrypted[host.id]
        yield Finding(
            resource=host.hostname,
            passed=state is True,
            message="disk encrypted" if state else "disk not encrypted",
        )


def _policy_check(
    name: str, kind: type[FleetControlPolicy], **meta: str
) -> Callable[..., Iterator[Finding]]:
    """The check of one control a configured Fleet policy tests: one finding per host the
    policy applies to. ``kind`` is the control's snapshot (its configured policy)."""

    def judge(control: FleetControlPolicy, hosts: FleetHosts) -> Iterator[Finding]:
        yield from _results(control.policy, hosts, "{host}")

    judge.__annotations__ = {"control": kind, "hosts": FleetHosts, "return": Iterator[Finding]}
    judge.__name__ = judge.__qualname__ = name
    judge.__doc__ = "One finding per host the configured policy applies to."
    return check(**meta)(judge)


screen_lock = _policy_check(
    "screen_lock",
    FleetScreenLock,
    id="fleet.hosts.screen_lock",
    title="Every Fleet host locks its screen (configured Fleet policy)",
    severity="medium",
    remediation="Enforce an automatic screen lock with a password (MDM profile or GPO) on the "
    "hosts listed; fleet.policies.screen_lock names the policy that checks it.",
)
firewall_enabled = _policy_check(
    "firewall_enabled",
    FleetFirewall,
    id="fleet.hosts.firewall_enabled",
    title="Every Fleet host has its firewall on (configured Fleet policy)",
    severity="medium",
    remediation="Turn on the host firewall on the hosts listed; fleet.policies.firewall names "
    "the policy that checks it.",
)
antimalware_enabled = _policy_check(
    "antimalware_enabled",
    FleetAntimalware,
    id="fleet.hosts.antimalware_enabled",
    title="Every Fleet host runs anti-malware protection (configured Fleet policy)",
    severity="high",
    remediation="Install or re-enable anti-malware (Defender, XProtect/EDR) on the hosts "
    "listed; fleet.policies.antimalware names the policy that checks it.",
)
os_updated = _policy_check(
    "os_updated",
    FleetOsUpdates,
    id="fleet.hosts.os_updated",
    title="Every Fleet host is on a current operating system (configured Fleet policy)",
    severity="high",
    remediation="Update the operating system on the hosts listed (Fleet OS updates or your "
    "MDM); fleet.policies.os_updates names the policy that checks it.",
)
time_synced = _policy_check(
    "time_synced",
    FleetTimeSync,
    id="fleet.hosts.time_synced",
    title="Every Fleet host keeps its clock synchronised (configured Fleet policy)",
    severity="medium",
    remediation="Turn on network time (macOS: set time automatically; Windows: the Windows "
    "Time service; Linux: systemd-timesyncd or chrony) on the hosts listed; "
    "fleet.policies.time_sync names the policy that checks it.",
)
local_admins_allowed = _policy_check(
    "local_admins_allowed",
    FleetLocalAdmins,
    id="fleet.hosts.local_admins_allowed",
    title="Only allow-listed accounts are local administrators on Fleet hosts (configured "
    "Fleet policy)",
    severity="high",
    remediation="Remove the accounts the policy reports from the local administrators "
    "(Administrators, admin, sudo or wheel) on the hosts listed; fleet.policies.local_admins "
    "names the policy whose query holds the allow-list.",
)
