"""Directory role checks: how many Global Administrators, and no guest in a privileged role.

Active role assignments only: PIM-eligible members are not counted until they activate. A
role-assignable group holding a role is expanded to its transitive members: each user or
service principal counts once, and a guest holding a role through a group is examined.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.entra.models import DirectoryRoles, EntraUsers

GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
#: Role template ids (= role definition ids) of the built-in roles that can take over the
#: tenant or its data, with their names.
ROLE_NAMES = {
    GLOBAL_ADMIN: "Global Administrator",
    "e8611ab8-c189-46e8-94e1-60213ab1f814": "Privileged Role Administrator",
    "7be44c8a-adaf-4e2a-84d6-ab2649e08a13": "Privileged Authentication Administrator",
    "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
    "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9": "Conditional Access Administrator",
    "fe930be7-5e62-47db-91af-98c3a49a38b1": "User Administrator",
    "c4e39bd9-1100-46d3-8c65-fb160da0071f": "Authentication Administrator",
    "729827e3-9c14-49f7-bb1b-9608f156bbb8": "Helpdesk Administrator",
    "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3": "Application Administrator",
    "158c047a-c907-4556-b7ef-446551a6b5f7": "Cloud Application Administrator",
    "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2": "Hybrid Identity Administrator",
    "29232cdf-9323-42fd-ade2-1d097af3e4de": "Exchange Administrator",
    "f28a1f50-f6e7-4571-818b-6a12f2af6b6c": "SharePoint Administrator",
    "3a2c62db-5318-420d-8d74-23affee5d9d5": "Intune Administrator",
    "b0f54661-2d74-4c50-afa3-1ec803f12efe": "Billing Administrator",
}
PRIVILEGED_ROLES = frozenset(ROLE_NAMES)
MIN_GLOBAL_ADMINS, MAX_GLOBAL_ADMINS = 2, 4


@check(
    id="entra.roles.global_admin_count",
    title="Between 2 and 4 Global Administrators",
    severity="high",
    version=2,
    remediation="Keep at least two Global Administrators (one may be an emergency-access "
    "account) and at most four; move day-to-day work to less privileged roles.",
)
def global_admin_count(roles: DirectoryRoles) -> Iterator[Finding]:
    """One finding for the tenant: the distinct users and service principals holding the role,
    directly or through groups."""
    holders: set[str] = set()
    for role in roles.roles:
        if role.template_id == GLOBAL_ADMIN:
            holders |= set(role.principals())
    count = len(holders)
    passed = MIN_GLOBAL_ADMINS <= count <= MAX_GLOBAL_ADMINS
    yield Finding(
        resource=roles.tenant,
        passed=passed,
        message=f"{count} Global Administrator(s)"
        + ("" if passed else f", expected {MIN_GLOBAL_ADMINS} to {MAX_GLOBAL_ADMINS}"),
    )


@check(
    id="entra.roles.no_guest_privileged",
    title="No guest user holds a privileged directory role",
    severity="high",
    version=2,
    remediation="Remove the guest from the role; give privileged roles only to member accounts "
    "of the organisation.",
)
def no_guest_privileged(roles: DirectoryRoles, users: EntraUsers) -> Iterator[Finding]:
    """One finding per user in a privileged role; a guest is ``userType`` Guest or an #EXT#
    account (the user list decides; the UPN is the fallback for users it does not list)."""
    known = users.by_id()
    for role in roles.roles:
        if role.template_id not in PRIVILEGED_ROLES:
            continue
        for member in role.principals().values():
            if member.kind != "user":
                continue
            user = known.get(member.id)
            guest = user.user_type.lower() == "guest" if user else "#ext#" in member.name.lower()
            how = f" through group {member.via!r}" if member.via else ""
            yield Finding(
                resource=f"{role.name}/{member.name}",
                passed=not guest,
                message=f"{'guest' if guest else 'member'} holds {role.name}{how}",
            )
