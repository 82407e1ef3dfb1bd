"""Typed snapshots of the local host, read with ``osqueryi --json``.

Collectors turn each platform's table (see ``collector.osquery.host``) into one shape; a
snapshot with ``supported`` false means the platform exposes no table for it (not judged).
"""

from __future__ import annotations

from typing import ClassVar

from checks.api import Snapshot, SnapshotPart

__all__ = [
    "DiskVolume",
    "HostAntimalware",
    "HostDiskEncryption",
    "HostFirewall",
    "HostOs",
    "HostScreenLock",
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
    """Windows ``windows_security_center.antivirus``; macOS ``gatekeeper`` (XProtect)."""


class HostScreenLock(_Feature):
    """macOS ``screenlock`` (password after screen saver, grace period); Windows machine
    inactivity limit (``InactivityTimeoutSecs`` policy in ``registry``)."""

    lock_after_seconds: int | None  # grace period (macOS) or inactivity limit (Windows)
    max_seconds: int  # the configured longest accepted
