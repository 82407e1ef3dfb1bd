"""Admin SDK Reports collector: the OAuth token ``authorize`` events of the last days."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from checks.workspace.apps import AppGrant, WorkspaceAppGrants
from collector.collect import collects
from collector.http import MalformedResponse, PageToken

if TYPE_CHECKING:
    from collector.workspace.accounts import WorkspaceScope

#: The Reports API's read-only audit scope (a second delegation, asked for on first use).
REPORTS_READONLY = "https://www.googleapis.com/auth/admin.reports.audit.readonly"
TOKEN_EVENTS = "/admin/reports/v1/activity/users/all/applications/token"
PAGING = PageToken(items_key="items", page_size=("maxResults", 1000), may_be_empty=True)


class AllowListMissing(Exception):
    """``workspace.allowed_apps`` is not configured: nothing to judge grants against."""


def _parameters(event: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: p.get("multiValue", p.get("value")) for p in event.get("parameters") or ()}


@collects(WorkspaceAppGrants, permissions=[f"workspace:{REPORTS_READONLY}"])
def app_grants(scope: WorkspaceScope) -> WorkspaceAppGrants:
    """Every ``authorize`` event since ``app_grant_days`` ago, grouped by OAuth client id."""
    settings = scope.settings
    if settings.allowed_apps is None:
        raise AllowListMissing(
            "workspace.allowed_apps is not configured: list the OAuth client ids or app names "
            "users may authorise"
        )
    since = scope.now() - timedelta(days=settings.app_grant_days)
    events = scope.reports.list(
        TOKEN_EVENTS,
        paging=PAGING,
        params={
            "eventName": "authorize",
            "startTime": since.isoformat(timespec="seconds").replace("+00:00", "Z"),
        },
        requires=REPORTS_READONLY,
    )
    grants: dict[str, dict[str, Any]] = defaultdict(lambda: {"users": set(), "scopes": set()})
    for activity in events:
        when = activity.get("id", {}).get("time")
        user = activity.get("actor", {}).get("email") or activity.get("actor", {}).get("profileId")
        for event in activity.get("events") or ():
            if event.get("name") != "authorize":
                continue
            found = _parameters(event)
            client = found.get("client_id")
            if not client or not when:
                raise MalformedResponse(f"GET {TOKEN_EVENTS}", "authorize event without client_id")
            grant = grants[client]
            grant["name"] = found.get("app_name") or grant.get("name") or client
            grant["users"].add(user or "unknown")
            grant["scopes"].update(found.get("scope") or ())
            grant["last"] = max(grant.get("last", when), when)
    return WorkspaceAppGrants(
        domain=scope.target.account,
        window_days=settings.app_grant_days,
        allowed=tuple(settings.allowed_apps),
        apps=tuple(
            AppGrant(
                client_id=client,
                app_name=g["name"],
                users=tuple(sorted(g["users"])),
                scopes=tuple(sorted(g["scopes"])),
                last_authorized=g["last"],
            )
            for client, g in sorted(grants.items())
        ),
    )
