"""Microsoft Graph collector for Intune: managed devices and the configured device policy."""

from __future__ import annotations

from typing import Any

from checks.intune.app_protection import AppProtectionPolicies, AppProtectionPolicy
from checks.intune.apps import DetectedApp, DetectedApps
from checks.intune.assets import AssignedDevice, DeviceAssignments, DeviceUser
from checks.intune.models import IntuneDevices, IntuneSettings, ManagedDevice
from checks.intune.policies import CompliancePolicies, CompliancePolicy
from checks.intune.protection import ProtectionState, WindowsProtection
from collector.azure.entra import needs
from collector.azure.errors import MalformedResponse
from collector.azure.scope import AzureScope
from collector.collect import collects

DEVICES = ("graph:DeviceManagementManagedDevices.Read.All",)
CONFIGURATION = ("graph:DeviceManagementConfiguration.Read.All",)
APPS = ("graph:DeviceManagementApps.Read.All",)
#: Graph collections of app protection policies per platform.
_APP_PROTECTIONS = {
    "iOS": "/deviceAppManagement/iosManagedAppProtections",
    "Android": "/deviceAppManagement/androidManagedAppProtections",
}
#: employeeLeaveDateTime is read with User-LifeCycleInfo.Read.All besides User.Read.All.
LEAVERS = (*DEVICES, "graph:User.Read.All", "graph:User-LifeCycleInfo.Read.All")
_NEVER = "0001-01-01T00:00:00Z"  # Intune's "never synced"


@collects(IntuneDevices, permissions=DEVICES)
def managed_devices(scope: AzureScope) -> IntuneDevices:
    """Every Intune managed device: compliance, encryption, last sync and OS version."""
    answer = scope.api.list(
        "/deviceManagement/managedDevices",
        params={
            "$select": "id,deviceName,operatingSystem,osVersion,complianceState,isEncrypted,"
            "lastSyncDateTime"
        },
        requires=needs(DEVICES),
    )
    policy = scope.settings.intune
    return IntuneDevices(
        collected_at=scope.now(),
        sync_within_days=policy.sync_within_days,
        min_os_versions=dict(policy.min_os_versions),
        devices=tuple(
            ManagedDevice(
                id=d["id"],
                name=d.get("deviceName") or d["id"],
                os=d.get("operatingSystem") or "",
                os_version=d.get("osVersion") or "",
                compliance_state=d.get("complianceState") or "unknown",
                encrypted=d.get("isEncrypted") is True,
                last_sync=None
                if d.get("lastSyncDateTime") in (None, _NEVER)
                else d["lastSyncDateTime"],
            )
            for d in answer
        ),
    )


@collects(IntuneSettings, permissions=CONFIGURATION)
def tenant_settings(scope: AzureScope) -> IntuneSettings:
    """``GET /deviceManagement`` ``settings.secureByDefault``; a missing value is an error."""
    answer = scope.api.get(
        "/deviceManagement", params={"$select": "settings"}, requires=needs(CONFIGURATION)
    )
    value = (answer.get("settings") or {}).get("secureByDefault")
    if not isinstance(value, bool):
        raise MalformedResponse("GET /v1.0/deviceManagement", "no settings.secureByDefault")
    return IntuneSettings(tenant=scope.target.account, secure_by_default=value)


@collects(WindowsProtection, permissions=DEVICES, fan_out=True)
def windows_protection(scope: AzureScope) -> WindowsProtection:
    """``windowsProtectionState`` of every Windows managed device (one call per device)."""
    states = []
    for device in scope.get(IntuneDevices).devices:
        if device.os.lower() != "windows":
            continue
        state = scope.api.get(
            f"/deviceManagement/managedDevices/{device.id}/windowsProtectionState",
            requires=needs(DEVICES),
        )
        states.append(
            ProtectionState(
                device_id=device.id,
                device=device.name,
                malware_protection=state.get("malwareProtectionEnabled"),
                real_time_protection=state.get("realTimeProtectionEnabled"),
                signatures_overdue=state.get("signatureUpdateOverdue"),
                health=state.get("deviceState"),
            )
        )
    return WindowsProtection(devices=tuple(states))


#: Compliance policy types (@odata.type) -> the platform name Intune gives their devices, and
#: the names of the lock and encryption settings in each.
_POLICY_TYPES = {
    "windows10CompliancePolicy": (
        "Windows",
        "password",
        ("bitLockerEnabled", "storageRequireEncryption"),
    ),
    "macOSCompliancePolicy": ("macOS", "password", ("storageRequireEncryption",)),
    "iosCompliancePolicy": ("iOS", "passcode", ()),
    "androidCompliancePolicy": ("Android", "password", ("storageRequireEncryption",)),
    "androidWorkProfileCompliancePolicy": ("Android", "password", ("storageRequireEncryption",)),
}


@collects(CompliancePolicies, permissions=CONFIGURATION)
def compliance_policies(scope: AzureScope) -> CompliancePolicies:
    """Device compliance policies with their assignments, and the platforms of the managed
    devices (from :class:`IntuneDevices`)."""
    listed = scope.api.list(
        "/deviceManagement/deviceCompliancePolicies",
        params={"$expand": "assignments"},
        requires=needs(CONFIGURATION),
    )
    policies = [p for p in map(_compliance_policy, listed) if p is not None]
    devices = scope.get(IntuneDevices).devices
    known = {platform for platform, _, _ in _POLICY_TYPES.values()}
    return CompliancePolicies(
        tenant=scope.target.account,
        platforms=tuple(sorted({d.os for d in devices if d.os in known})),
        max_lock_minutes=scope.settings.intune.screen_lock_max_minutes,
        policies=tuple(policies),
    )


def _compliance_policy(item: dict[str, Any]) -> CompliancePolicy | None:
    kind = str(item.get("@odata.type", "")).rpartition(".")[2]
    if kind not in _POLICY_TYPES:
        return None  # other platforms (Windows 8.1, Windows Phone...) are not judged
    platform, word, encryption = _POLICY_TYPES[kind]
    if not isinstance(item.get("assignments"), list):
        raise MalformedResponse(
            "GET /v1.0/deviceManagement/deviceCompliancePolicies",
            f"{item['id']} has no assignments",
        )
    return CompliancePolicy(
        id=item["id"],
        name=item.get("displayName") or item["id"],
        platform=platform,
        assigned=bool(item["assignments"]),
        password_required=item.get(f"{word}Required") is True,
        lock_minutes=item.get(f"{word}MinutesOfInactivityBeforeLock"),
        encryption_required=any(item.get(k) is True for k in encryption)
        or (platform == "iOS" and item.get("passcodeRequired") is True),
    )


@collects(DetectedApps, permissions=DEVICES)
def detected_apps(scope: AzureScope) -> DetectedApps:
    """Apps Intune detected on managed devices (name, version, device count), every page."""
    listed = scope.api.list("/deviceManagement/detectedApps", requires=needs(DEVICES))
    apps = []
    for item in listed:
        count = item.get("deviceCount")
        if not isinstance(count, int) or not item.get("displayName"):
            raise MalformedResponse(
                "GET /v1.0/deviceManagement/detectedApps", f"{item.get('id')} has no name or count"
            )
        apps.append(
            DetectedApp(
                id=item["id"],
                name=item["displayName"],
                version=item.get("version"),
                devices=count,
                platform=item.get("platform"),
            )
        )
    return DetectedApps(
        tenant=scope.target.account,
        denied=tuple(scope.settings.intune.denied_apps),
        apps=tuple(apps),
    )


@collects(DeviceAssignments, permissions=LEAVERS)
def device_assignments(scope: AzureScope) -> DeviceAssignments:
    """Managed devices with a primary user (``userId``; userless devices are left out), and
    those users' state and leave date from one sweep of ``/users``."""
    listed = scope.api.list(
        "/deviceManagement/managedDevices",
        params={
            "$select": "id,deviceName,operatingSystem,managedDeviceOwnerType,userId,"
            "userPrincipalName"
        },
        requires=needs(DEVICES),
    )
    devices = tuple(
        AssignedDevice(
            id=d["id"],
            name=d.get("deviceName") or d["id"],
            os=d.get("operatingSystem") or "",
            ownership=d.get("managedDeviceOwnerType") or "unknown",
            user_id=d["userId"],
            user=d.get("userPrincipalName") or d["userId"],
        )
        for d in listed
        if d.get("userId")
    )
    wanted = {d.user_id for d in devices}
    users = scope.api.list(
        "/users",
        params={
            "$select": "id,userPrincipalName,accountEnabled,employeeLeaveDateTime",
            "$top": "999",
        },
        requires=needs(LEAVERS[1:]),
    )
    found = {}
    for user in users:
        if user["id"] not in wanted:
            continue
        if not isinstance(user.get("accountEnabled"), bool):
            raise MalformedResponse("GET /v1.0/users", f"{user['id']} has no accountEnabled")
        found[user["id"]] = DeviceUser(
            id=user["id"],
            upn=user.get("userPrincipalName") or user["id"],
            enabled=user["accountEnabled"],
            left_at=user.get("employeeLeaveDateTime"),
        )
    return DeviceAssignments(
        collected_at=scope.now(),
        return_days=scope.settings.intune.asset_return_days,
        devices=devices,
        users=found,
    )


@collects(AppProtectionPolicies, permissions=APPS)
def app_protection_policies(scope: AzureScope) -> AppProtectionPolicies:
    """iOS and Android app protection policies with their assignments (one list each, for
    the configured platforms); a policy without its data transfer settings is malformed."""
    wanted = scope.settings.intune.app_protection_platforms
    policies = []
    for platform in wanted:
        path = _APP_PROTECTIONS[platform]
        for item in scope.api.list(path, params={"$expand": "assignments"}, requires=needs(APPS)):
            transfer = item.get("allowedOutboundDataTransferDestinations")
            clipboard = item.get("allowedOutboundClipboardSharingLevel")
            if not transfer or not clipboard or not isinstance(item.get("assignments"), list):
                raise MalformedResponse(
                    f"GET /v1.0{path}", f"{item.get('id')} has no data transfer settings"
                )
            policies.append(
                AppProtectionPolicy(
                    id=item["id"],
                    name=item.get("displayName") or item["id"],
                    platform=platform,
                    assigned=bool(item["assignments"]),
                    outbound_transfer=transfer,
                    clipboard=clipboard,
                    save_as_blocked=item.get("saveAsBlocked") is True,
                    backup_blocked=item.get("dataBackupBlocked") is True,
                )
            )
    return AppProtectionPolicies(
        tenant=scope.target.account, platforms=tuple(wanted), policies=tuple(policies)
    )
