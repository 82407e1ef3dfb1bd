"""Intune: recorded managed-device answers -> snapshot -> the four device checks."""

from __future__ import annotations

import pytest
import respx

from checks.intune import apps as intune_apps
from checks.intune import devices, policies, protection
from checks.intune.apps import DetectedApps
from checks.intune.models import IntuneDevices, IntuneSettings
from checks.intune.policies import CompliancePolicies
from checks.intune.protection import WindowsProtection
from checks.testing import findings, verdicts
from collector.azure.errors import AzureApiError, MalformedResponse
from collector.os_support import as_of, default_minimums
from collector.settings import AzureSettings, IntunePolicy
from tests.azure.fakes import TENANT, collect, graph, recording, serve

LAPTOP1, LAPTOP2, IPHONE, MAC, BUILD = (
    f"{name} (d0000000-0000-4000-8000-00000000000{n})"
    for n, name in enumerate(("LAPTOP-01", "LAPTOP-02", "IPHONE-01", "MAC-01", "BUILD-01"), 1)
)
DEVICES = graph("/deviceManagement/managedDevices")
SETTINGS = graph("/deviceManagement")
#: The minimums these recordings were judged by (the defaults move with os_support.yaml).
FIXED = AzureSettings(
    intune=IntunePolicy(
        min_os_versions={"Windows": "10.0.19045", "macOS": "14.0", "iOS": "17.0", "Android": "13"}
    )
)
UNTARGETED = f"{TENANT} (devices with no compliance policy)"


def serve_settings(api: respx.MockRouter, secure_by_default: bool | None) -> None:
    """``GET /deviceManagement`` as learn.microsoft.com "Get deviceManagement" documents it."""
    body = recording("graph/device_management_settings.json")
    body["settings"]["secureByDefault"] = secure_by_default
    serve(api, SETTINGS, body=body)


def test_device_checks(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/managed_devices.json")
    serve_settings(api, True)
    snapshot = collect(IntuneDevices, "intune", settings=FIXED)
    tenant = collect(IntuneSettings, "intune")

    assert verdicts(devices.compliant, snapshot, tenant) == {
        (UNTARGETED, True),
        (LAPTOP1, True),
        (LAPTOP2, False),
        (IPHONE, True),
        (MAC, False),  # in grace period
        (BUILD, True),
    }
    assert verdicts(devices.encrypted, snapshot) == {
        (LAPTOP1, True),
        (LAPTOP2, False),
        (IPHONE, True),
        (MAC, True),
        (BUILD, False),
    }
    assert verdicts(devices.recently_synced, snapshot) == {
        (LAPTOP1, True),
        (LAPTOP2, False),  # 30 days ago
        (IPHONE, True),
        (MAC, False),  # never (0001-01-01)
        (BUILD, True),
    }
    assert verdicts(devices.os_version_minimum, snapshot) == {
        (LAPTOP1, True),  # 10.0.22631 >= 10.0.19045
        (LAPTOP2, False),  # 10.0.19044
        (IPHONE, True),
        (MAC, False),  # 13.6.4 < 14.0
    }  # Linux has no configured minimum: not judged
    assert findings(devices.recently_synced, snapshot)[3].message == (
        "last sync never, over 7 days ago"
    )


def test_devices_without_a_policy_marked_compliant_fail_the_tenant(api: respx.MockRouter) -> None:
    """Intune's default (secureByDefault false) marks a device no compliance policy targets as
    compliant: the devices' own states cannot be trusted, so the tenant setting fails."""
    serve(api, DEVICES, "graph/managed_devices.json")
    serve_settings(api, False)
    snapshot, tenant = collect(IntuneDevices, "intune"), collect(IntuneSettings, "intune")
    verdict = verdicts(devices.compliant, snapshot, tenant)
    assert (UNTARGETED, False) in verdict and (LAPTOP1, True) in verdict
    assert findings(devices.compliant, snapshot, tenant)[0].message == (
        "marked compliant (secureByDefault off): a device no policy targets passes"
    )


def test_missing_secure_by_default_is_an_error(api: respx.MockRouter) -> None:
    serve_settings(api, None)
    with pytest.raises(MalformedResponse, match=r"no settings\.secureByDefault"):
        collect(IntuneSettings, "intune")


def test_default_minimums_come_from_the_dated_support_file(api: respx.MockRouter) -> None:
    """Windows 10 22H2 (10.0.19045) left support in October 2025: the defaults refuse it."""
    assert as_of().isoformat() >= "2025-10-14"
    assert IntunePolicy().min_os_versions == default_minimums("intune")
    serve(api, DEVICES, "graph/managed_devices.json")
    snapshot = collect(IntuneDevices, "intune")
    win10 = snapshot.devices[0].model_copy(update={"os_version": "10.0.19045.5011"})
    judged = snapshot.model_copy(update={"devices": (win10,)})
    assert verdicts(devices.os_version_minimum, judged) == {(LAPTOP1, False)}


def test_minimums_are_configurable(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/managed_devices.json")
    policy = IntunePolicy(min_os_versions={"linux": "22.04", "macos": "13.0"})
    snapshot = collect(IntuneDevices, "intune", settings=AzureSettings(intune=policy))
    assert verdicts(devices.os_version_minimum, snapshot) == {
        (MAC, True),
        (BUILD, False),  # "Ubuntu 22.04" is not a version number: not a pass
    }


def test_intune_403_names_the_scope_it_asks_for(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/error_intune_forbidden.json", status=403)
    with pytest.raises(AzureApiError) as denied:
        collect(IntuneDevices, "intune")
    assert denied.value.permission == "DeviceManagementManagedDevices.Read.All"


def serve_protection(api: respx.MockRouter, second: dict | None = None) -> None:
    """``windowsProtectionState`` per Windows device (v1.0 "Get windowsProtectionState")."""
    for n in (1, 2):
        path = graph(f"/deviceManagement/managedDevices/d0000000-0000-4000-8000-00000000000{n}")
        name = f"graph/windows_protection_{n}.json"
        if n == 2 and second is not None:
            serve(api, f"{path}/windowsProtectionState", body=recording(name) | second)
        else:
            serve(api, f"{path}/windowsProtectionState", name)


def test_windows_antimalware_health(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/managed_devices.json")
    serve_protection(api)
    snapshot = collect(WindowsProtection, "intune")
    assert [
        (f.resource, f.passed, f.message)
        for f in findings(protection.antimalware_healthy, snapshot)
    ] == [
        (LAPTOP1, True, "protected (clean)"),
        (LAPTOP2, False, "real-time protection off; signatures overdue"),
    ]  # iOS, macOS and Linux devices are not asked


def test_windows_protection_not_reported_is_not_a_pass(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/managed_devices.json")
    unreported = {"malwareProtectionEnabled": None, "realTimeProtectionEnabled": None}
    serve_protection(api, unreported | {"signatureUpdateOverdue": None, "deviceState": None})
    snapshot = collect(WindowsProtection, "intune")
    assert findings(protection.antimalware_healthy, snapshot)[1].message == (
        "anti-malware not reported; real-time protection not reported; signature age not reported"
    )
    assert not findings(protection.antimalware_healthy, snapshot)[1].passed


def test_windows_protection_denied_is_an_error(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/managed_devices.json")
    path = graph("/deviceManagement/managedDevices/d0000000-0000-4000-8000-000000000001")
    serve(api, f"{path}/windowsProtectionState", "graph/error_intune_forbidden.json", status=403)
    with pytest.raises(AzureApiError) as denied:
        collect(WindowsProtection, "intune")
    assert denied.value.status == 403


def serve_compliance_policies(api: respx.MockRouter) -> None:
    path = graph("/deviceManagement/deviceCompliancePolicies")
    serve(api, path, "graph/compliance_policies_page2.json", **{"$skiptoken": "Q1AyCg"})
    serve(api, path, "graph/compliance_policies_page1.json", **{"$expand": "assignments"})


def test_compliance_policies_lock_and_encryption(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/managed_devices.json")
    serve_compliance_policies(api)
    snapshot = collect(CompliancePolicies, "intune")
    assert [
        (f.resource, f.passed, f.message) for f in findings(policies.lock_and_encryption, snapshot)
    ] == [
        (f"{TENANT}/Windows", True, "required by Windows baseline"),
        (f"{TENANT}/iOS", False, "'iOS baseline': no inactivity lock"),  # page 2; null
        (f"{TENANT}/macOS", False, "'macOS baseline': locks after 30 min"),
    ]  # the unassigned Windows pilot does not count; Linux has no compliance policy type
    relaxed = AzureSettings(intune=IntunePolicy(screen_lock_max_minutes=30))
    api.routes.clear()
    serve(api, DEVICES, "graph/managed_devices.json")
    serve_compliance_policies(api)
    loose = collect(CompliancePolicies, "intune", settings=relaxed)
    assert (f"{TENANT}/macOS", True) in verdicts(policies.lock_and_encryption, loose)


def test_compliance_policies_unknown_is_an_error(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/managed_devices.json")
    page = recording("graph/compliance_policies_page2.json")
    del page["value"][0]["assignments"]  # not expanded: who it targets is unknown
    serve(api, graph("/deviceManagement/deviceCompliancePolicies"), body=page)
    with pytest.raises(MalformedResponse, match="has no assignments"):
        collect(CompliancePolicies, "intune")
    api.routes.clear()
    serve(
        api,
        graph("/deviceManagement/deviceCompliancePolicies"),
        "graph/error_intune_forbidden.json",
        status=403,
    )
    with pytest.raises(AzureApiError):
        collect(CompliancePolicies, "intune")


def serve_detected_apps(api: respx.MockRouter) -> None:
    path = graph("/deviceManagement/detectedApps")
    serve(api, path, "graph/detected_apps_page2.json", **{"$skiptoken": "REEyCg"})
    serve(api, path, "graph/detected_apps_page1.json")


def test_denied_apps_absent(api: respx.MockRouter) -> None:
    serve_detected_apps(api)
    denied = AzureSettings(intune=IntunePolicy(denied_apps=["teamviewer*", "AnyDesk", "utorrent"]))
    apps = collect(DetectedApps, "intune", settings=denied)
    assert [
        (f.resource, f.passed, f.message) for f in findings(intune_apps.denied_absent, apps)
    ] == [
        (
            f"{TENANT}/denied/teamviewer*",
            False,
            "installed: TeamViewer 15.53.6 on 3 devices, TeamViewer 15.44.7 on 1 devices",
        ),
        (f"{TENANT}/denied/AnyDesk", True, "not detected on any managed device"),  # 0 devices
        (f"{TENANT}/denied/utorrent", False, "installed: uTorrent on 1 devices"),  # no version
    ]
    assert findings(intune_apps.denied_absent, collect(DetectedApps, "intune")) == []  # no list


def test_detected_app_without_count_is_an_error(api: respx.MockRouter) -> None:
    page = recording("graph/detected_apps_page2.json")
    page["value"][1]["deviceCount"] = None
    serve(api, graph("/deviceManagement/detectedApps"), body=page)
    with pytest.raises(MalformedResponse, match="has no name or count"):
        collect(DetectedApps, "intune")
