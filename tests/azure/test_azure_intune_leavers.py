"""Intune devices of leavers: recorded managed devices (two pages, a userless kiosk) and users
with ``accountEnabled`` and ``employeeLeaveDateTime`` (two pages) -> DeviceAssignments ->
intune.devices.leavers_returned, through the real httpx client."""

from __future__ import annotations

import pytest
import respx

from checks.intune.assets import DeviceAssignments, leavers_returned
from checks.testing import findings, verdicts
from collector.azure.errors import AzureApiError, MalformedResponse
from collector.settings import AzureSettings, IntunePolicy
from tests.azure.fakes import collect, graph, recording, serve

DEVICES = graph("/deviceManagement/managedDevices")
USERS = graph("/users")
OWNERS = "id,deviceName,operatingSystem,managedDeviceOwnerType,userId,userPrincipalName"
LEAVERS = "id,userPrincipalName,accountEnabled,employeeLeaveDateTime"
LAPTOP1, LAPTOP2, MAC, IPHONE, _KIOSK, LAPTOP3, ANDROID = (
    f"{name} (d1000000-0000-4000-8000-00000000000{n})"
    for n, name in enumerate(
        ("LAPTOP-01", "LAPTOP-02", "MAC-01", "IPHONE-01", "KIOSK-01", "LAPTOP-03", "ANDROID-01"), 1
    )
)


def serve_leavers(api: respx.MockRouter, users_page2: dict | None = None) -> dict:
    """learn.microsoft.com "List managedDevices" ($select with managedDeviceOwnerType, userId,
    userPrincipalName) and "List users" ($select with accountEnabled, employeeLeaveDateTime),
    each over two pages of ``@odata.nextLink``."""
    routes = {
        "devices2": serve(
            api, DEVICES, "graph/device_owners_page2.json", **{"$skiptoken": "DEVOWNERS2"}
        ),
        "devices1": serve(api, DEVICES, "graph/device_owners_page1.json", **{"$select": OWNERS}),
        "users2": serve(
            api,
            USERS,
            body=users_page2 or recording("graph/users_lifecycle_page2.json"),
            **{"$skiptoken": "LEAVERS2"},
        ),
        "users1": serve(api, USERS, "graph/users_lifecycle_page1.json", **{"$select": LEAVERS}),
    }
    return routes


def test_devices_of_leavers_past_the_window_fail(api: respx.MockRouter) -> None:
    routes = serve_leavers(api)
    snapshot = collect(DeviceAssignments, "intune")
    assert snapshot.return_days == 14
    assert verdicts(leavers_returned, snapshot) == {
        (LAPTOP1, True),  # alice is active
        (LAPTOP2, True),  # dave left 7 days ago: within 14
        (MAC, False),  # erin left two months ago
        (IPHONE, False),  # frank disabled, no leave date
        (LAPTOP3, False),  # user deleted
        (ANDROID, True),  # alice again
    }  # the kiosk has no primary user: not judged
    assert set(snapshot.users) == {d.user_id for d in snapshot.devices} - {
        "aaaaaaaa-0000-4000-8000-000000000019"  # deleted: in no page of /users
    }
    said = {f.resource: f.message for f in findings(leavers_returned, snapshot)}
    assert said[MAC] == (
        "macOS company device: primary user erin@example.com is disabled, left 2024-04-01: "
        "over 14 days ago"
    )
    assert said[IPHONE] == (
        "iOS personal device: primary user frank@example.com is disabled, with no leave date "
        "to count from"
    )
    assert said[LAPTOP3] == (
        "Windows company device: primary user gone@example.com is no longer in the directory "
        "(deleted)"
    )
    assert said[LAPTOP2].endswith("left 2024-05-25: within the 14-day return window")
    assert all(routes[r].call_count == 1 for r in ("devices1", "devices2", "users1", "users2"))


def test_return_window_is_configurable(api: respx.MockRouter) -> None:
    serve_leavers(api)
    settings = AzureSettings(intune=IntunePolicy(asset_return_days=90))
    snapshot = collect(DeviceAssignments, "intune", settings=settings)
    assert (MAC, True) in verdicts(leavers_returned, snapshot)  # 61 days < 90


def test_user_without_account_state_is_an_error(api: respx.MockRouter) -> None:
    page = recording("graph/users_lifecycle_page2.json")
    del page["value"][0]["accountEnabled"]
    serve_leavers(api, users_page2=page)
    with pytest.raises(MalformedResponse, match=r"aaaaaaaa-0000-4000-8000-000000000013 has no acc"):
        collect(DeviceAssignments, "intune")


def test_users_denied_names_the_permissions(api: respx.MockRouter) -> None:
    serve(api, DEVICES, "graph/device_owners_page2.json")
    serve(api, USERS, "graph/error_forbidden.json", status=403)
    with pytest.raises(AzureApiError) as denied:
        collect(DeviceAssignments, "intune")
    assert str(denied.value).endswith(
        "(missing permission: graph:User.Read.All, graph:User-LifeCycleInfo.Read.All)"
    )
