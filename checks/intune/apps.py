"""Software on managed devices: no app of the configured deny list is installed."""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatch
from typing import ClassVar

from checks.api import Finding, Snapshot, SnapshotPart, check


class DetectedApp(SnapshotPart):
    id: str
    name: str
    version: str | None
    devices: int  # deviceCount
    platform: str | None


class DetectedApps(Snapshot):
    provider: ClassVar[str] = "intune"
    resource_noun: ClassVar[str] = "denied apps"
    tenant: str
    denied: tuple[str, ...]  # name globs from the config
    apps: tuple[DetectedApp, ...]


@check(
    id="intune.apps.denied_absent",
    title="No managed device has an app from the deny list installed",
    severity="medium",
    interval="24h",
    remediation="Uninstall the app (an Intune uninstall assignment, or a remediation script) and "
    "block it (App Control for Business, an app protection or configuration policy); the "
    "list is azure.intune.denied_apps.",
)
def denied_absent(snapshot: DetectedApps) -> Iterator[Finding]:
    """One finding per deny-list entry: which matching apps Intune detected, on how many
    devices. No deny list configured: nothing to judge."""
    for pattern in snapshot.denied:
        found = [a for a in snapshot.apps if a.devices and fnmatch(a.name.lower(), pattern.lower())]
        listed = ", ".join(
            f"{a.name} {a.version or ''}".strip() + f" on {a.devices} devices" for a in found
        )
        yield Finding(
            resource=f"{snapshot.tenant}/denied/{pattern}",
            passed=not found,
            message=f"installed: {listed}" if found else "not detected on any managed device",
        )
