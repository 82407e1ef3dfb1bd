"""App protection (MAM) policies: on the configured mobile platforms, organisation data in
managed apps stays in managed apps (no transfer, paste, Save As or backup elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, Snapshot, SnapshotPart, check

#: Outbound destinations and clipboard levels that keep data among managed apps.
CONTAINED_TRANSFER = frozenset({"managedApps", "none"})
CONTAINED_CLIPBOARD = frozenset({"managedAppsWithPasteIn", "managedApps", "blocked"})


class AppProtectionPolicy(SnapshotPart):
    """The data transfer settings of an iOS or Android app protection policy."""

    id: str
    name: str
    platform: str  # iOS | Android
    assigned: bool
    outbound_transfer: str  # allowedOutboundDataTransferDestinations
    clipboard: str  # allowedOutboundClipboardSharingLevel
    save_as_blocked: bool
    backup_blocked: bool

    def gaps(self) -> list[str]:
        found = []
        if self.outbound_transfer not in CONTAINED_TRANSFER:
            found.append(f"sends data to {self.outbound_transfer}")
        if self.clipboard not in CONTAINED_CLIPBOARD:
            found.append(f"clipboard shared with {self.clipboard}")
        if not self.save_as_blocked:
            found.append("Save As allowed")
        if not self.backup_blocked:
            found.append("backups allowed")
        return found


class AppProtectionPolicies(Snapshot):
    provider: ClassVar[str] = "intune"
    resource_noun: ClassVar[str] = "platforms"
    tenant: str
    platforms: tuple[str, ...]  # configured: intune.app_protection_platforms
    policies: tuple[AppProtectionPolicy, ...]


@check(
    id="intune.app_protection.data_contained",
    title="Mobile app protection policies keep organisation data inside managed apps",
    severity="medium",
    interval="24h",
    remediation="Assign an iOS and an Android app protection policy to the users: send org "
    "data to policy managed apps only, clipboard to managed apps, block Save As and backups "
    "(intune.app_protection_platforms names the platforms judged).",
)
def data_contained(snapshot: AppProtectionPolicies) -> Iterator[Finding]:
    """One finding per configured platform: an assigned policy with no gap passes; otherwise
    each assigned policy's gaps are named (an unassigned policy protects nobody)."""
    for platform in snapshot.platforms:
        mine = [p for p in snapshot.policies if p.platform == platform and p.assigned]
        clean = [p.name for p in mine if not p.gaps()]
        if clean:
            message = f"data kept in managed apps by: {', '.join(clean)}"
        elif mine:
            message = "; ".join(f"{p.name!r}: {', '.join(p.gaps())}" for p in mine)
        else:
            message = f"no assigned {platform} app protection policy"
        yield Finding(resource=f"{snapshot.tenant}/{platform}", passed=bool(clean), message=message)
