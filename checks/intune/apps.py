"""Software on managed devices: no app of the configured deny list is installed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, Snapshot, SnapshotPart, check
from checks.software import denied_findings


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
    yield from denied_findings(
        snapshot.denied,
        ((a.name, f"{a.name} {a.version or ''}".strip(), a.devices) for a in snapshot.apps),
        resource=snapshot.tenant,
        noun="devices",
        nowhere="not detected on any managed device",
    )
