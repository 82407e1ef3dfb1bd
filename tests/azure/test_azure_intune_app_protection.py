"""App protection policies: recorded iOS (two pages) and Android policies with their
assignments -> AppProtectionPolicies -> intune.app_protection.data_contained, through the real
httpx client."""

from __future__ import annotations

import pytest
import respx

from checks.intune.app_protection import AppProtectionPolicies, data_contained
from checks.testing import findings
from collector.azure.errors import AzureApiError, MalformedResponse
from collector.settings import AzureSettings, IntunePolicy
from tests.azure.fakes import TENANT, collect, graph, recording, serve

IOS = graph("/deviceAppManagement/iosManagedAppProtections")
ANDROID = graph("/deviceAppManagement/androidManagedAppProtections")


def serve_policies(api: respx.MockRouter, android: dict | None = None) -> None:
    """learn.microsoft.com "List iosManagedAppProtections" / "List
    androidManagedAppProtections" with ``$expand=assignments`` (@odata.nextLink on iOS)."""
    serve(api, IOS, "graph/ios_app_protections_page2.json", **{"$skiptoken": "IOSMAM2"})
    serve(api, IOS, "graph/ios_app_protections_page1.json", **{"$expand": "assignments"})
    serve(api, ANDROID, body=android or recording("graph/android_app_protections.json"))


def test_each_platform_needs_an_assigned_policy_without_gaps(api: respx.MockRouter) -> None:
    serve_policies(api)
    snapshot = collect(AppProtectionPolicies, "intune")
    assert [p.assigned for p in snapshot.policies] == [False, True, True]
    said = [(f.resource, f.passed, f.message) for f in findings(data_contained, snapshot)]
    assert said == [
        (f"{TENANT}/iOS", True, "data kept in managed apps by: iOS: work data in work apps"),
        (
            f"{TENANT}/Android",
            False,
            "'Android BYOD': sends data to allApps, clipboard shared with allApps, Save As allowed",
        ),
    ]


def test_only_the_configured_platforms_are_read(api: respx.MockRouter) -> None:
    serve_policies(api)
    settings = AzureSettings(intune=IntunePolicy(app_protection_platforms=["iOS"]))
    snapshot = collect(AppProtectionPolicies, "intune", settings=settings)
    assert [f.resource for f in findings(data_contained, snapshot)] == [f"{TENANT}/iOS"]
    none = snapshot.model_copy(update={"policies": snapshot.policies[:1]})  # unassigned only
    assert findings(data_contained, none)[0].message == "no assigned iOS app protection policy"


def test_policy_without_transfer_settings_is_malformed(api: respx.MockRouter) -> None:
    body = recording("graph/android_app_protections.json")
    del body["value"][0]["allowedOutboundDataTransferDestinations"]
    serve_policies(api, android=body)
    with pytest.raises(MalformedResponse, match="has no data transfer settings"):
        collect(AppProtectionPolicies, "intune")


def test_denied_names_the_permission(api: respx.MockRouter) -> None:
    serve(api, IOS, "graph/error_forbidden.json", status=403)
    with pytest.raises(AzureApiError) as denied:
        collect(AppProtectionPolicies, "intune")
    assert str(denied.value).endswith("(missing permission: graph:DeviceManagementApps.Read.All)")
