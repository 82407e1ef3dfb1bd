"""Mobile devices of people who left, through the real clients: google-auth fetches a third
delegated token (the mobile devices scope) on first use; the shared httpx client pages
``mobiledevices.list`` and ``users.list`` (recordings/SOURCES.md)."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import jwt
import pytest

from checks.testing import findings
from checks.workspace.devices import WorkspaceMobileDevices, leavers_wiped
from checks.workspace.models import WorkspaceUsers
from collector.causes import describe_error
from collector.collect import Target
from collector.snapshots import SnapshotCache
from collector.workspace.accounts import resolve_accounts
from collector.workspace.directory import MOBILE_READONLY, USER_READONLY
from tests.workspace.test_workspace_apps import tokens
from tests.workspace.test_workspace_checks import NOW, REGISTRY, TOKEN_URL, answer, serve_directory


def grant_all_but(refused: str):
    """The token endpoint: every scope granted but ``refused`` (unauthorized_client)."""

    def grant(request: httpx.Request) -> httpx.Response:
        assertion = parse_qs(request.content.decode())["assertion"][0]
        scope = jwt.decode(assertion, options={"verify_signature": False})["scope"]
        if scope == refused:
            return answer("token_unauthorized_client.json", 401)
        return answer("token.json")

    return grant


MOBILE = "https://admin.googleapis.com/admin/directory/v1/customer/my_customer/devices/mobile"


def collect(settings) -> tuple[WorkspaceMobileDevices, WorkspaceUsers]:
    (account,) = resolve_accounts(settings, clock=lambda: NOW, sleep=[].append)
    assert account.error is None and account.make_scope is not None
    cache = SnapshotCache(REGISTRY.collectors, account.make_scope)
    target = Target("workspace", "example.com")
    return cache.get(WorkspaceMobileDevices, target), cache.get(WorkspaceUsers, target)


def serve_devices(api) -> None:
    api.get(MOBILE, params={"pageToken": "MOBILE-PAGE-2"}).mock(
        return_value=answer("mobile_devices_page2.json")
    )
    api.get(MOBILE, params={"projection": "BASIC"}).mock(
        return_value=answer("mobile_devices_page1.json")
    )


def test_devices_of_people_who_left_fail_unless_wiped(api, settings):
    serve_directory(api)
    grant, scopes = tokens()
    api.post(TOKEN_URL).mock(side_effect=grant)
    serve_devices(api)
    devices, users = collect(settings)
    assert scopes == [USER_READONLY, MOBILE_READONLY]  # the second on first use
    said = {f.resource: (f.passed, f.message) for f in findings(leavers_wiped, devices, users)}
    assert said == {
        "iPhone 15 (AFiQxQ8mobile0001)": (True, "used by ann@example.com"),
        "Pixel 8 (AFiQxQ8mobile0002)": (
            False,
            "gina@example.com (suspended) left; device APPROVED, not wiped",
        ),
        "Galaxy Tab S9 (AFiQxQ8mobile0003)": (True, "used by bob@example.com"),
        "iPad Air (AFiQxQ8mobile0004)": (
            False,
            "hal@example.com (archived) left; device APPROVED, not wiped",
        ),
        "Pixel 6 (AFiQxQ8mobile0005)": (
            False,
            "old@example.com (deleted) left; device BLOCKED, not wiped",
        ),
        "iPhone 12 (AFiQxQ8mobile0006)": (True, "status ACCOUNT_WIPED"),
    }


def test_a_missing_devices_delegation_is_an_error_of_this_check_only(api, settings):
    serve_directory(api)
    api.post(TOKEN_URL).mock(side_effect=grant_all_but(MOBILE_READONLY))
    (account,) = resolve_accounts(settings, clock=lambda: NOW, sleep=[].append)
    cache = SnapshotCache(REGISTRY.collectors, account.make_scope)
    target = Target("workspace", "example.com")
    assert cache.get(WorkspaceUsers, target).users  # the Directory user scope still works
    with pytest.raises(Exception) as denied:
        cache.get(WorkspaceMobileDevices, target)
    assert "unauthorized_client" in describe_error(denied.value)


def test_a_device_without_status_is_malformed(api, settings):
    serve_directory(api)
    api.post(TOKEN_URL).mock(side_effect=tokens()[0])
    page = answer("mobile_devices_page2.json").json()
    del page["mobiledevices"][0]["status"]
    api.get(MOBILE, params={"pageToken": "MOBILE-PAGE-2"}).respond(json=page)
    api.get(MOBILE).mock(return_value=answer("mobile_devices_page1.json"))
    with pytest.raises(Exception, match="a mobile device without resourceId or status"):
        collect(settings)
