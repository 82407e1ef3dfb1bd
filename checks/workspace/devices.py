"""Return of assets on Google Workspace: mobile devices still synced for people who left
(every owner suspended, archived or deleted) and not wiped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, Snapshot, SnapshotPart, check
from checks.workspace.models import WorkspaceUsers

#: Statuses under which the device's account data is being or has been erased.
WIPED = frozenset({"WIPING", "WIPED", "ACCOUNT_WIPING", "ACCOUNT_WIPED"})


class MobileDevice(SnapshotPart):
    id: str  # resourceId
    model: str
    kind: str  # type: IOS_SYNC, ANDROID, ...
    owners: tuple[str, ...]  # email
    status: str


class WorkspaceMobileDevices(Snapshot):
    provider: ClassVar[str] = "workspace"
    resource_noun: ClassVar[str] = "mobile devices"
    domain: str
    devices: tuple[MobileDevice, ...]


@check(
    id="workspace.devices.leavers_wiped",
    title="No mobile device keeps the account data of people who left",
    severity="medium",
    interval="24h",
    remediation="Collect the device and wipe the account (Admin console > Devices > Mobile "
    "devices > Wipe account, or Wipe device for company-owned ones), or remove the device.",
)
def leavers_wiped(devices: WorkspaceMobileDevices, users: WorkspaceUsers) -> Iterator[Finding]:
    """One finding per managed mobile device: it fails when none of its owners is an active
    user (suspended, archived or no longer in the directory) and it is not wiped."""
    by_email = {u.email.lower(): u for u in users.users}
    for device in devices.devices:
        active = [o for o in device.owners if (u := by_email.get(o.lower())) and u.active]
        left = [o for o in device.owners if o not in active]
        if active or device.status in WIPED:
            passed = True
            message = f"used by {', '.join(active)}" if active else f"status {device.status}"
        else:
            passed = False
            states = [
                "deleted"
                if (u := by_email.get(o.lower())) is None
                else "archived"
                if u.archived
                else "suspended"
                for o in left
            ]
            owners = ", ".join(f"{o} ({s})" for o, s in zip(left, states, strict=True))
            message = f"{owners or 'no owner'} left; device {device.status}, not wiped"
        yield Finding(resource=f"{device.model} ({device.id})", passed=passed, message=f"{message}")
