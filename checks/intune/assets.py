"""Return of assets: managed devices whose primary user has left (disabled or deleted in
Microsoft Entra ID) past the configured return window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Finding, Snapshot, SnapshotPart, check


class AssignedDevice(SnapshotPart):
    id: str
    name: str
    os: str
    ownership: str  # company | personal | unknown (managedDeviceOwnerType)
    user_id: str
    user: str  # the device's userPrincipalName


class DeviceUser(SnapshotPart):
    id: str
    upn: str
    enabled: bool
    left_at: AwareDatetime | None  # employeeLeaveDateTime (None: not recorded)


class DeviceAssignments(Snapshot):
    """Managed devices with a primary user, and those users as the directory has them now
    (a user id missing from ``users`` is no longer in the directory)."""

    provider: ClassVar[str] = "intune"
    resource_noun: ClassVar[str] = "devices with a primary user"

    collected_at: AwareDatetime
    return_days: int
    devices: tuple[AssignedDevice, ...]
    users: dict[str, DeviceUser]


def _left(device: AssignedDevice, snapshot: DeviceAssignments) -> tuple[bool, str]:
    user = snapshot.users.get(device.user_id)
    if user is None:
        return False, f"primary user {device.user} is no longer in the directory (deleted)"
    if user.enabled:
        return True, f"primary user {user.upn} is active"
    if user.left_at is None:
        return False, f"primary user {user.upn} is disabled, with no leave date to count from"
    days = snapshot.return_days
    within = snapshot.collected_at - user.left_at <= timedelta(days=days)
    return within, (
        f"primary user {user.upn} is disabled, left {user.left_at:%Y-%m-%d}: "
        + (f"within the {days}-day return window" if within else f"over {days} days ago")
    )


@check(
    id="intune.devices.leavers_returned",
    title="No managed device stays assigned to a user who has left",
    severity="medium",
    interval="24h",
    remediation="Collect the device from the leaver, then wipe or retire it in Intune and "
    "reassign it (or remove its primary user); record the leave date (employeeLeaveDateTime) "
    "so the return window (azure.intune.asset_return_days) counts from it.",
)
def leavers_returned(snapshot: DeviceAssignments) -> Iterator[Finding]:
    """One finding per device with a primary user. A disabled user's device passes only
    within ``return_days`` of a recorded leave date; a deleted user's device fails."""
    for device in snapshot.devices:
        passed, message = _left(device, snapshot)
        yield Finding(
            resource=f"{device.name} ({device.id})",
            passed=passed,
            message=f"{device.os} {device.ownership} device: {message}",
        )
