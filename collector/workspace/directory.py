"""Admin SDK Directory collectors: every user and every mobile device of the customer, paged by
``nextPageToken``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from checks.workspace.devices import MobileDevice, WorkspaceMobileDevices
from checks.workspace.models import WorkspaceUser, WorkspaceUsers
from collector.collect import collects
from collector.http import ApiScope, MalformedResponse, PageToken
from collector.settings import WorkspaceSettings

if TYPE_CHECKING:
    from collector.workspace.accounts import WorkspaceScope

USERS_PATH = "/admin/directory/v1/users"
PAGING = PageToken(items_key="users", page_size=("maxResults", 500))
#: What the Directory API writes as ``lastLoginTime`` for a user who never logged in.
NEVER = datetime.fromisoformat("1970-01-01T00:00:00+00:00")

#: The one OAuth scope annexa asks for (the Admin SDK Directory API, read-only).
USER_READONLY = "https://www.googleapis.com/auth/admin.directory.user.readonly"


@collects(WorkspaceUsers, permissions=[f"workspace:{USER_READONLY}"])
def users(scope: ApiScope[WorkspaceSettings]) -> WorkspaceUsers:
    """Every user with admin flags, 2SV state and last login (``projection=full``)."""
    settings = scope.settings
    answer = scope.api.list(
        USERS_PATH,
        paging=PAGING,
        params={"customer": settings.customer, "projection": "full", "orderBy": "email"},
        requires=USER_READONLY,
    )
    return WorkspaceUsers(
        domain=scope.target.account,
        collected_at=scope.now(),
        inactive_days=settings.inactive_days,
        users=tuple(_user(u) for u in answer),
    )


def _user(item: dict[str, Any]) -> WorkspaceUser:
    last = item.get("lastLoginTime")
    last_login = datetime.fromisoformat(last) if last else None
    return WorkspaceUser(
        id=item["id"],
        email=item.get("primaryEmail") or item["id"],
        suspended=item.get("suspended") is True,
        archived=item.get("archived") is True,
        super_admin=item.get("isAdmin") is True,
        delegated_admin=item.get("isDelegatedAdmin") is True,
        enrolled_2sv=item.get("isEnrolledIn2Sv") is True,
        enforced_2sv=item.get("isEnforcedIn2Sv") is True,
        created_at=item.get("creationTime"),
        last_login=None if last_login is None or last_login <= NEVER else last_login,
    )


#: Read-only scope of the Directory API's mobile devices (a delegation of its own).
MOBILE_READONLY = "https://www.googleapis.com/auth/admin.directory.device.mobile.readonly"
MOBILE_PAGING = PageToken(
    items_key="mobiledevices", page_size=("maxResults", 100), may_be_empty=True
)


@collects(WorkspaceMobileDevices, permissions=[f"workspace:{MOBILE_READONLY}"])
def mobile_devices(scope: WorkspaceScope) -> WorkspaceMobileDevices:
    """Every mobile device of the customer (``mobiledevices.list``, ``projection=BASIC``)."""
    path = f"/admin/directory/v1/customer/{scope.settings.customer}/devices/mobile"
    answer = scope.devices.list(
        path, paging=MOBILE_PAGING, params={"projection": "BASIC"}, requires=MOBILE_READONLY
    )
    devices = []
    for item in answer:
        if not item.get("resourceId") or not item.get("status"):
            raise MalformedResponse(f"GET {path}", "a mobile device without resourceId or status")
        devices.append(
            MobileDevice(
                id=item["resourceId"],
                model=item.get("model") or item["resourceId"],
                kind=item.get("type") or "",
                owners=tuple(item.get("email") or ()),
                status=item["status"],
            )
        )
    return WorkspaceMobileDevices(domain=scope.target.account, devices=tuple(devices))
