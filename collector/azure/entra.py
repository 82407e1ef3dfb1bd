"""Microsoft Graph collectors for Entra ID: users, MFA registration, Conditional Access,
directory roles and app registrations. Each declares the Graph application permissions it
needs; a 403 names them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from checks.entra.models import (
    AppRegistration,
    AppRegistrations,
    ClientSecret,
    ConditionalAccess,
    ConditionalAccessPolicy,
    DirectoryRole,
    DirectoryRoles,
    EntraSignIns,
    EntraUser,
    EntraUsers,
    MfaRegistration,
    MfaRegistrations,
    RoleMember,
)
from collector.azure.scope import AzureScope
from collector.collect import collects

USERS = ("graph:User.Read.All",)
SIGN_INS = ("graph:User.Read.All", "graph:AuditLog.Read.All")
REPORTS = ("graph:AuditLog.Read.All",)
POLICIES = ("graph:Policy.Read.All",)
ROLES = ("graph:RoleManagement.Read.Directory", "graph:GroupMember.Read.All")
APPS = ("graph:Application.Read.All",)
_SIGN_INS = ("lastSignInDateTime", "lastNonInteractiveSignInDateTime")
#: Page sizes: the user list documents 999 at most; with ``signInActivity`` selected the
#: documented cap is lower (it has been 120, 999 and now 500) and a larger ``$top`` is refused.
USERS_PAGE, SIGN_INS_PAGE = "999", "500"


def needs(permissions: tuple[str, ...]) -> str:
    """The ``requires`` text of a Graph call: what a 403 without details is missing."""
    return ", ".join(permissions)


@collects(EntraUsers, permissions=USERS)
def users(scope: AzureScope) -> EntraUsers:
    """Every user with type, state and creation time (any licence)."""
    answer = scope.api.list(
        "/users",
        params={
            "$select": "id,userPrincipalName,userType,accountEnabled,createdDateTime",
            "$top": USERS_PAGE,
        },
        requires=needs(USERS),
    )
    return EntraUsers(
        users=tuple(
            EntraUser(
                id=u["id"],
                upn=u.get("userPrincipalName") or u["id"],
                user_type=u.get("userType") or "Member",
                enabled=u.get("accountEnabled") is True,
                created_at=u.get("createdDateTime"),
            )
            for u in answer
        ),
    )


@collects(EntraSignIns, permissions=SIGN_INS)
def sign_ins(scope: AzureScope) -> EntraSignIns:
    """Every user's sign-in activity, in a sweep of its own: a tenant without Entra ID P1
    loses only the checks that need it."""
    answer = scope.api.list(
        "/users",
        params={"$select": "id,signInActivity", "$top": SIGN_INS_PAGE},
        requires=needs(SIGN_INS),
    )
    return EntraSignIns(
        collected_at=scope.now(),
        inactive_days=scope.settings.entra.inactive_days,
        last_sign_in={u["id"]: last_sign_in(u.get("signInActivity")) for u in answer},
    )


def last_sign_in(activity: dict[str, Any] | None) -> str | None:
    """The last successful sign-in; before Graph recorded it, the latest sign-in of any kind.

    ``lastSignInDateTime`` counts failed attempts too, so it is only the fallback.
    """
    if not activity:
        return None
    if activity.get("lastSuccessfulSignInDateTime"):
        return str(activity["lastSuccessfulSignInDateTime"])
    seen = [datetime.fromisoformat(activity[k]) for k in _SIGN_INS if activity.get(k)]
    return max(seen).isoformat() if seen else None


@collects(MfaRegistrations, permissions=REPORTS)
def mfa_registrations(scope: AzureScope) -> MfaRegistrations:
    """The authentication-methods registration report (needs an Entra ID P1 licence)."""
    answer = scope.api.list(
        "/reports/authenticationMethods/userRegistrationDetails", requires=needs(REPORTS)
    )
    return MfaRegistrations(
        users=tuple(
            MfaRegistration(
                id=row["id"],
                upn=row.get("userPrincipalName") or row["id"],
                user_type=(row.get("userType") or "member").capitalize(),
                is_admin=row.get("isAdmin") is True,
                mfa_registered=row.get("isMfaRegistered") is True,
            )
            for row in answer
        )
    )


@collects(ConditionalAccess, permissions=POLICIES)
def conditional_access(scope: AzureScope) -> ConditionalAccess:
    """Security defaults and every Conditional Access policy."""
    defaults = scope.api.get(
        "/policies/identitySecurityDefaultsEnforcementPolicy", requires=needs(POLICIES)
    )
    policies = scope.api.list("/identity/conditionalAccess/policies", requires=needs(POLICIES))
    return ConditionalAccess(
        tenant=scope.target.account,
        security_defaults_enabled=defaults.get("isEnabled") is True,
        policies=tuple(_policy(p) for p in policies),
        break_glass=tuple(scope.settings.entra.break_glass_accounts),
    )


def _policy(item: dict[str, Any]) -> ConditionalAccessPolicy:
    conditions = item.get("conditions") or {}
    grant = item.get("grantControls") or {}
    people = conditions.get("users") or {}
    apps = conditions.get("applications") or {}
    strength = grant.get("authenticationStrength") or {}
    return ConditionalAccessPolicy(
        id=item["id"],
        name=item.get("displayName") or item["id"],
        state=item["state"],
        include_users=tuple(people.get("includeUsers") or ()),
        include_applications=tuple(apps.get("includeApplications") or ()),
        exclude_users=tuple(people.get("excludeUsers") or ()),
        exclude_groups=tuple(people.get("excludeGroups") or ()),
        exclude_roles=tuple(people.get("excludeRoles") or ()),
        exclude_applications=tuple(apps.get("excludeApplications") or ()),
        exclude_guests=bool(people.get("excludeGuestsOrExternalUsers")),
        client_app_types=tuple(conditions.get("clientAppTypes") or ()),
        built_in_controls=tuple(grant.get("builtInControls") or ()),
        grant_operator=grant.get("operator") or "OR",
        authentication_strength=bool(strength),
        strength_id=strength.get("id"),
        strength_combinations=tuple(strength.get("allowedCombinations") or ()),
        include_roles=tuple(people.get("includeRoles") or ()),
        terms_of_use=tuple(grant.get("termsOfUse") or ()),
        narrowed=_narrowed(conditions),
    )


def _narrowed(conditions: dict[str, Any]) -> tuple[str, ...]:
    """Conditions that make a policy apply only sometimes (so it is not "all sign-ins")."""
    found = []
    locations = conditions.get("locations") or {}
    if locations.get("excludeLocations") or locations.get("includeLocations", ["All"]) != ["All"]:
        found.append("locations")
    platforms = conditions.get("platforms") or {}
    if platforms.get("excludePlatforms") or platforms.get("includePlatforms", ["all"]) != ["all"]:
        found.append("platforms")
    for key in ("userRiskLevels", "signInRiskLevels", "servicePrincipalRiskLevels"):
        if conditions.get(key):
            found.append(key)
    if (conditions.get("devices") or {}).get("deviceFilter"):
        found.append("device filter")
    return tuple(found)


@collects(DirectoryRoles, permissions=ROLES)
def directory_roles(scope: AzureScope) -> DirectoryRoles:
    """Activated directory roles with their active members; a role-assignable group member is
    followed by its transitive members (``/groups/{id}/transitiveMembers``, read once per
    group), each marked with the group it holds the role through."""
    roles = []
    groups: dict[str, list[RoleMember]] = {}
    for role in scope.api.list("/directoryRoles", requires=needs(ROLES)):
        members = []
        listed = scope.api.list(f"/directoryRoles/{role['id']}/members", requires=needs(ROLES))
        for member in map(_member, listed):
            members.append(member)
            if member.kind == "group":
                if member.id not in groups:
                    groups[member.id] = _group_members(scope, member)
                members += groups[member.id]
        roles.append(
            DirectoryRole(
                template_id=role["roleTemplateId"],
                name=role.get("displayName") or role["roleTemplateId"],
                members=tuple(members),
            )
        )
    return DirectoryRoles(tenant=scope.target.account, roles=tuple(roles))


def _group_members(scope: AzureScope, group: RoleMember) -> list[RoleMember]:
    listed = scope.api.list(
        f"/groups/{group.id}/transitiveMembers", params={"$top": "999"}, requires=needs(ROLES)
    )
    return [_member(m, via=group.name) for m in listed]


def _member(item: dict[str, Any], via: str | None = None) -> RoleMember:
    kind = str(item.get("@odata.type", "")).rpartition(".")[2] or "unknown"
    name = item.get("userPrincipalName") or item.get("displayName") or item["id"]
    return RoleMember(id=item["id"], kind=kind, name=name, via=via)


@collects(AppRegistrations, permissions=APPS)
def app_registrations(scope: AzureScope) -> AppRegistrations:
    """App registrations with their client secrets' validity (never the secret or its hint)."""
    answer = scope.api.list(
        "/applications",
        params={"$select": "id,appId,displayName,passwordCredentials", "$top": "999"},
        requires=needs(APPS),
    )
    return AppRegistrations(
        collected_at=scope.now(),
        max_lifetime_days=scope.settings.entra.secret_max_lifetime_days,
        apps=tuple(
            AppRegistration(
                id=app["id"],
                app_id=app.get("appId") or app["id"],
                name=app.get("displayName") or app["id"],
                secrets=tuple(
                    ClientSecret(
                        key_id=s["keyId"], start=s.get("startDateTime"), end=s.get("endDateTime")
                    )
                    for s in app.get("passwordCredentials") or ()
                ),
            )
            for app in answer
        ),
    )
