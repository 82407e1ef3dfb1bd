"""Typed Microsoft Intune snapshots: managed devices and the configured device policy."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Snapshot, SnapshotPart

__all__ = ["IntuneDevices", "IntuneSettings", "ManagedDevice"]


class ManagedDevice(SnapshotPart):
    id: str
    name: str
    os: str  # Windows, macOS, iOS, Android, ...
    os_version: str
    compliance_state: str  # compliant, noncompliant, inGracePeriod, unknown, ...
    encrypted: bool
    last_sync: AwareDatetime | None


class IntuneDevices(Snapshot):
    """Managed devices, with the collection time and the configured policy."""

    provider: ClassVar[str] = "intune"
    resource_noun: ClassVar[str] = "devices"

    collected_at: AwareDatetime
    sync_within_days: int
    min_os_versions: dict[str, str]
    devices: tuple[ManagedDevice, ...]


class IntuneSettings(Snapshot):
    """Tenant-wide Intune settings (``deviceManagement.settings``) that change what a device's
    compliance state means."""

    provider: ClassVar[str] = "intune"
    resource_noun: ClassVar[str] = "tenants"

    tenant: str
    #: True: a device no compliance policy targets is noncompliant; False: it shows "compliant"
    secure_by_default: bool
