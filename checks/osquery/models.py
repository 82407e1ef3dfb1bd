"""Typed snapshots of the local host, read with ``osqueryi --json``.

Collectors turn each platform's table (see ``collector.osquery.host``) into one shape; a
snapshot with ``supported`` false means the platform exposes no table for it: the check cannot
judge it, which is an ERROR, never a pass.
"""

from __future__ import annotations

from typing import ClassVar

from checks.api import Snapshot, SnapshotPart

__all__ = [
    "DiskVolume",
    "HostAdmins",
    "HostAntimalware",
    "HostDiskEncryption",
    "HostFirewall",
    "HostOs",
    "HostScreenLock",
    "HostTimeSync",
]


class _OsquerySnapshot(Snapshot):
    provider: ClassVar[str] = "osquery"
    resource_noun: ClassVar[str] = "hosts"

    hostname: str
    family: str  # darwin, windows, linux


class HostOs(_OsquerySnapshot):
    """``os_version``; ``minimum`` is the configured lowest version for ``platform``."""

    platform: str  # darwin, windows, ubuntu, rhel, ...
    name: str
    version: str
    minimum: str | None


class DiskVolume(SnapshotPart):
    name: str  # /dev/dm-0, C:, /dev/disk3s5
    encrypted: bool
    detail: str  # the table's own words: LUKS type, FileVault status, BitLocker method


class HostDiskEncryption(_OsquerySnapshot):
    """The system volume(s): macOS FileVault user volumes, Linux ``/``, Windows ``C:``."""

    source: str
    volumes: tuple[DiskVolume, ...]


class _Feature(_OsquerySnapshot):
    supported: bool  # False: no osquery table on this platform
    source: str
    enabled: bool
    detail: str


class HostFirewall(_Feature):
    """macOS ``alf``; Windows ``windows_security_center.firewall``."""


class HostAntimalware(_Feature):
    """Windows ``windows_security_center.antivirus``; macOS XProtect (``xprotect_meta``
    signatures present) with System Integrity Protection on (``sip_config``), since XProtect
    can only be switched off with SIP off."""


class HostScreenLock(_Feature):
    """How soon an idle host locks. macOS: the screen saver's idle time (``managed_policies``
    from a profile, else ``preferences``), then the password delay after it (``screenlock``);
    Windows: the machine inactivity limit (``InactivityTimeoutSecs`` in ``registry``)."""

    idle_seconds: int | None  # idle time before the screen saver / lock (None: not found)
    grace_seconds: int  # macOS password delay after the screen saver; 0 on Windows
    max_idle_seconds: int  # the configured longest accepted
    max_grace_seconds: int


class HostTimeSync(_Feature):
    """Network time on. macOS: "Set time automatically" (``TMAutomaticTimeOnlyEnabled``, a
    profile's in ``managed_policies``, else timed's own ``plist``) with ``timed`` running;
    Windows: the W32Time service running (``services``) with a sync type other than NoSync
    (``registry``); Linux: a time sync daemon's systemd unit active (``systemd_units``)."""


class HostAdmins(_OsquerySnapshot):
    """Local accounts in the host's administrators group (macOS ``admin``, Windows
    ``Administrators`` by its SID, Linux ``sudo``, ``wheel`` or ``admin``), from
    ``user_groups``; ``allowed`` is the configured allow-list (None: not configured)."""

    groups: tuple[str, ...]
    admins: tuple[str, ...]
    allowed: tuple[str, ...] | None
