"""Endpoint checks on the local host: disk encryption, screen lock, firewall, OS version,
anti-malware, time synchronisation and local administrators."""

from __future__ import annotations

import re
from collections.abc import Iterator

from checks.api import Finding, check
from checks.osquery.models import (
    HostAdmins,
    HostAntimalware,
    HostDiskEncryption,
    HostFirewall,
    HostOs,
    HostScreenLock,
    HostTimeSync,
)

_NUMBERS = re.compile(r"^\d+(?:\.\d+)*")


def version_tuple(text: str) -> tuple[int, ...]:
    """``"22.04.3 LTS (Jammy Jellyfish)"`` -> ``(22, 4, 3)``; no leading number -> ``()``."""
    match = _NUMBERS.match(text.strip())
    return tuple(int(part) for part in match.group(0).split(".")) if match else ()


class NotExposed(LookupError):
    """osquery has no table for this on the host's platform: unknown, so ERROR."""


def _supported(snapshot: HostFirewall | HostAntimalware | HostScreenLock, what: str) -> None:
    if not snapshot.supported:
        raise NotExposed(
            f"osquery exposes no {what} state on {snapshot.family}: evidence it another way "
            "(a Fleet policy, MDM, or manual evidence)"
        )


def _feature(
    snapshot: HostFirewall | HostAntimalware | HostTimeSync, what: str
) -> Iterator[Finding]:
    _supported(snapshot, what)
    yield Finding(
        resource=snapshot.hostname,
        passed=snapshot.enabled,
        message=f"{what} {'on' if snapshot.enabled else 'off'} ({snapshot.detail})",
    )


@check(
    id="osquery.host.disk_encrypted",
    title="The host's system disk is encrypted (FileVault, LUKS, BitLocker)",
    severity="high",
    interval="24h",
    remediation="Turn on FileVault (macOS), BitLocker with protection on C: (Windows), or "
    "reinstall on LUKS (Linux).",
)
def disk_encrypted(disk: HostDiskEncryption) -> Iterator[Finding]:
    """No system volume found (e.g. ``/`` not on a block device) is a fail, not a pass."""
    encrypted = bool(disk.volumes) and all(v.encrypted for v in disk.volumes)
    seen = "; ".join(f"{v.name}: {v.detail}" for v in disk.volumes) or "no system volume found"
    yield Finding(resource=disk.hostname, passed=encrypted, message=f"{disk.source}: {seen}")


@check(
    id="osquery.host.screen_lock",
    title="The host locks its screen after a short idle time",
    severity="medium",
    interval="24h",
    version=2,
    remediation="macOS: start the screen saver after 15 minutes or less (a profile's "
    "com.apple.screensaver idleTime) and require a password immediately after it. Windows: "
    "set 'Interactive logon: Machine inactivity limit' to 900 s or less.",
)
def screen_lock(lock: HostScreenLock) -> Iterator[Finding]:
    """Passes when the idle time and the password delay after it are both within limits; an
    idle time that cannot be found fails. ERROR on Linux (no osquery table)."""
    _supported(lock, "screen lock")
    idle = lock.idle_seconds
    passed = (
        lock.enabled
        and idle is not None
        and idle <= lock.max_idle_seconds
        and lock.grace_seconds <= lock.max_grace_seconds
    )
    yield Finding(
        resource=lock.hostname,
        passed=passed,
        message=f"{lock.detail} (limits: idle {lock.max_idle_seconds} s, "
        f"grace {lock.max_grace_seconds} s)",
    )


@check(
    id="osquery.host.firewall_enabled",
    title="The host firewall is on",
    severity="medium",
    interval="24h",
    version=2,
    remediation="macOS: System Settings > Network > Firewall. Windows: turn on Windows "
    "Defender Firewall for every profile.",
)
def firewall_enabled(firewall: HostFirewall) -> Iterator[Finding]:
    """ERROR on Linux (iptables/nftables rules say nothing reliable about 'on')."""
    yield from _feature(firewall, "firewall")


@check(
    id="osquery.host.antimalware",
    title="Anti-malware protection is on",
    severity="medium",
    interval="24h",
    version=2,
    remediation="Windows: turn on Microsoft Defender Antivirus (or a registered product). "
    "macOS: keep System Integrity Protection on so XProtect runs (csrutil enable).",
)
def antimalware(protection: HostAntimalware) -> Iterator[Finding]:
    """ERROR on Linux (osquery exposes no anti-malware state there)."""
    yield from _feature(protection, "anti-malware")


@check(
    id="osquery.host.os_up_to_date",
    title="The host's OS is at or above the configured minimum version",
    severity="medium",
    interval="24h",
    remediation="Install the pending OS updates, or raise the host to a supported release.",
)
def os_up_to_date(host: HostOs) -> Iterator[Finding]:
    """Raises (ERROR) when no minimum is configured for the platform: nothing to judge by."""
    if host.minimum is None:
        raise LookupError(
            f"no minimum version configured for {host.platform} "
            f"(set osquery.min_os_versions.{host.platform})"
        )
    current, minimum = version_tuple(host.version), version_tuple(host.minimum)
    if not current:
        raise ValueError(f"cannot read a version number from {host.version!r}")
    width = max(len(current), len(minimum))  # "14" is "14.0"
    passed = current + (0,) * (width - len(current)) >= minimum + (0,) * (width - len(minimum))
    yield Finding(
        resource=host.hostname,
        passed=passed,
        message=f"{host.name} {host.version} {'>=' if passed else '<'} {host.minimum}",
    )


@check(
    id="osquery.host.time_synced",
    title="The host sets its clock from network time",
    severity="medium",
    interval="24h",
    remediation="macOS: Date & Time > Set time and date automatically. Windows: start the "
    "Windows Time service (W32Time) with an NTP or domain source. Linux: enable "
    "systemd-timesyncd or chrony.",
)
def time_synced(sync: HostTimeSync) -> Iterator[Finding]:
    """Network time configured and its service running; the clock's offset is not read."""
    yield from _feature(sync, "network time")


class NoAllowList(LookupError):
    """``osquery.allowed_admins`` is not set: nothing to judge the administrators by."""


@check(
    id="osquery.host.local_admins_allowed",
    title="Only allow-listed accounts are local administrators on the host",
    severity="high",
    interval="24h",
    remediation="Remove the accounts named from the administrators group (macOS admin, "
    "Windows Administrators, Linux sudo/wheel), or add them to osquery.allowed_admins if "
    "they are meant to administer the host.",
)
def local_admins_allowed(admins: HostAdmins) -> Iterator[Finding]:
    """One finding for the host, failing with the members not on the allow-list."""
    if admins.allowed is None:
        raise NoAllowList(
            "osquery.allowed_admins is not configured: list the accounts that may administer "
            "the host"
        )
    allowed = {a.lower() for a in admins.allowed}
    extra = [a for a in admins.admins if a.lower() not in allowed]
    group = "/".join(admins.groups)
    yield Finding(
        resource=admins.hostname,
        passed=not extra,
        message=f"not allow-listed in {group}: {', '.join(extra)}"
        if extra
        else f"{group}: {', '.join(admins.admins) or 'no local members'}, all allow-listed",
    )
