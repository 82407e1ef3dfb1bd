"""Okta users, their factors and administrators. Factors are one call per user who can sign
in (Okta has no bulk factor listing); the snapshot is memoised, so both checks that need it
share one sweep per run."""

from __future__ import annotations

from typing import Any

from checks.okta.models import (
    ACTIVE_STATUSES,
    OktaAdmin,
    OktaAdmins,
    OktaFactors,
    OktaUser,
    OktaUsers,
)
from collector.collect import collects
from collector.http import ApiScope, LinkHeader, NextLinkField
from collector.settings import OktaSettings

USERS = "okta.users.read"
FACTORS = "okta.factors.read"
ROLES = "okta.roles.read"
PAGING = LinkHeader(limit=200)
ASSIGNEES = NextLinkField(items_key="value", fields=("_links/next/href",))

Scope = ApiScope[OktaSettings]


@collects(OktaUsers, permissions=[f"okta:{USERS}"])
def users(scope: Scope) -> OktaUsers:
    """Every user except deprovisioned ones (Okta's default listing)."""
    answer = scope.api.list("/api/v1/users", paging=PAGING, requires=USERS)
    return OktaUsers(
        org=scope.target.account,
        collected_at=scope.now(),
        inactive_days=scope.settings.inactive_days,
        users=tuple(_user(u) for u in answer),
    )


def _user(item: dict[str, Any]) -> OktaUser:
    profile = item.get("profile") or {}
    return OktaUser(
        id=item["id"],
        login=profile.get("login") or item["id"],
        status=item["status"],
        created_at=item.get("created"),
        activated_at=item.get("activated"),
        last_login=item.get("lastLogin"),
    )


@collects(OktaFactors, permissions=[f"okta:{FACTORS}"])
def factors(scope: Scope) -> OktaFactors:
    """ACTIVE factors of each user who can sign in, as ``factorType:provider``."""
    found: dict[str, tuple[str, ...]] = {}
    for user in scope.get(OktaUsers).users:
        if user.status not in ACTIVE_STATUSES:
            continue
        listed = scope.api.list(f"/api/v1/users/{user.id}/factors", paging=PAGING, requires=FACTORS)
        found[user.id] = tuple(
            f"{f.get('factorType')}:{f.get('provider')}"
            for f in listed
            if f.get("status") == "ACTIVE"
        )
    return OktaFactors(active_factors=found, min_strength=scope.settings.mfa_min_strength)


@collects(OktaAdmins, permissions=[f"okta:{ROLES}", f"okta:{USERS}"])
def admins(scope: Scope) -> OktaAdmins:
    """Users with an admin role assignment (direct or via a group) and their roles."""
    assignees = scope.api.list("/api/v1/iam/assignees/users", paging=ASSIGNEES, requires=ROLES)
    known = {u.id: u for u in scope.get(OktaUsers).users}
    result = []
    for assignee in assignees:
        user_id = assignee["id"]
        user = known.get(user_id) or _user(
            scope.api.get(f"/api/v1/users/{user_id}", requires=USERS)  # e.g. deprovisioned
        )
        roles = scope.api.list(f"/api/v1/users/{user_id}/roles", paging=PAGING, requires=ROLES)
        result.append(
            OktaAdmin(
                id=user_id,
                login=user.login,
                status=user.status,
                roles=tuple(sorted({r.get("label") or r.get("type") or r["id"] for r in roles})),
            )
        )
    return OktaAdmins(admins=tuple(result))
