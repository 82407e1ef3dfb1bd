"""Identity governance: privileged roles held just in time (PIM), access reviews of privileged
roles and guests that complete, user consent to apps restricted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Finding, SnapshotPart, check
from checks.entra.models import EntraUsers, _EntraSnapshot
from checks.entra.roles import ROLE_NAMES

#: The self-consent policy Microsoft recommends: verified publishers, low-impact permissions.
LOW_RISK_CONSENT = "ManagePermissionGrantsForSelf.microsoft-user-default-low"
SELF_CONSENT = "ManagePermissionGrantsForSelf."


class RoleAssignment(SnapshotPart):
    """A PIM schedule: an active assignment (``Assigned``/``Activated``) or an eligibility."""

    role_id: str  # roleDefinitionId (= template id for built-in roles)
    principal_id: str
    principal: str  # user principal name or display name
    kind: str  # user | group | servicePrincipal
    assignment_type: str  # Assigned | Activated | Eligible
    ends_at: AwareDatetime | None  # None: noExpiration


class PimAssignments(_EntraSnapshot):
    """Directory role assignment and eligibility schedules (Privileged Identity Management)."""

    resource_noun: ClassVar[str] = "role assignments"
    tenant: str
    active: tuple[RoleAssignment, ...]
    eligible: tuple[RoleAssignment, ...]
    break_glass: tuple[str, ...] = ()


class ReviewInstance(SnapshotPart):
    status: str  # NotStarted, InProgress, Completing, Completed, AutoReviewed, ...
    ended_at: AwareDatetime | None


class AccessReview(SnapshotPart):
    id: str
    name: str
    role_ids: tuple[str, ...]  # role definitions its scope queries name
    guests: bool  # a scope query selects userType eq 'Guest'
    auto_apply: bool  # settings.autoApplyDecisionsEnabled
    instances: tuple[ReviewInstance, ...]


class AccessReviews(_EntraSnapshot):
    resource_noun: ClassVar[str] = "access review definitions"
    tenant: str
    collected_at: AwareDatetime
    max_age_days: int
    reviews: tuple[AccessReview, ...]


class ConsentPolicy(_EntraSnapshot):
    """The tenant's authorization policy: permission grant policies assigned to every user."""

    resource_noun: ClassVar[str] = "tenants"
    tenant: str
    grant_policies: tuple[str, ...]  # permissionGrantPoliciesAssigned


@check(
    id="entra.pim.privileged_roles_eligible",
    title="Privileged directory roles are held as PIM-eligible, not permanently active",
    severity="high",
    remediation="In Privileged Identity Management, convert permanent active assignments of "
    "privileged roles to eligible ones (activation with MFA, justification, a time limit); "
    "keep permanent only the break-glass accounts (azure.entra.break_glass_accounts).",
)
def privileged_roles_eligible(pim: PimAssignments) -> Iterator[Finding]:
    """One finding per principal and privileged role: a permanent active assignment fails
    (a break-glass account's passes); a time-bound or activated one and an eligibility pass."""
    allowed = set(pim.break_glass)
    for item in (*pim.active, *pim.eligible):
        name = ROLE_NAMES.get(item.role_id)
        if name is None:
            continue
        permanent = item.assignment_type == "Assigned" and item.ends_at is None
        if item.assignment_type == "Eligible":
            message = "eligible: activated on demand"
        elif item.assignment_type == "Activated":
            message = f"activated until {item.ends_at.date() if item.ends_at else 'no end'}"
        elif item.ends_at is not None:
            message = f"active until {item.ends_at.date()}"
        elif item.principal_id in allowed:
            message = "permanently active: a configured break-glass account"
        else:
            message = "permanently active assignment"
        yield Finding(
            resource=f"{name}/{item.principal}",
            passed=not permanent or item.principal_id in allowed,
            message=f"{item.kind} {message}",
        )


def _current(review: AccessReview, since: AwareDatetime) -> ReviewInstance | None:
    done = [
        i
        for i in review.instances
        if i.status == "Completed" and i.ended_at and i.ended_at >= since
    ]
    return max(done, key=lambda i: i.ended_at or since) if done else None


def _reviewed(reviews: list[AccessReview], since: AwareDatetime, what: str) -> tuple[bool, str]:
    if not reviews:
        return False, f"no access review covers {what}"
    found = []
    for review in reviews:
        instance = _current(review, since)
        if instance is None:
            found.append(f"{review.name!r} has no instance completed in the period")
        elif not review.auto_apply:
            found.append(f"{review.name!r} completed but does not apply its decisions")
        else:
            assert instance.ended_at is not None
            return (
                True,
                f"{review.name!r} completed {instance.ended_at:%Y-%m-%d}, decisions applied",
            )
    return False, "; ".join(found)


@check(
    id="entra.access_reviews.privileged_and_guests",
    title="Access reviews of privileged roles and guests complete and apply their decisions",
    severity="medium",
    interval="24h",
    remediation="Create recurring access reviews (Identity Governance) of each privileged role "
    "and of guest users, with 'auto apply results' on; each must complete within "
    "azure.entra.access_review_days.",
)
def privileged_and_guests(
    reviews: AccessReviews, pim: PimAssignments, users: EntraUsers
) -> Iterator[Finding]:
    """One finding per privileged role someone holds or is eligible for, and one for guests
    when the tenant has any: a covering review with an instance Completed within the period
    and decisions applied automatically."""
    since = reviews.collected_at - timedelta(days=reviews.max_age_days)
    held = {a.role_id for a in (*pim.active, *pim.eligible) if a.role_id in ROLE_NAMES}
    for role in sorted(held, key=ROLE_NAMES.__getitem__):
        name = ROLE_NAMES[role]
        covering = [r for r in reviews.reviews if role in r.role_ids]
        passed, message = _reviewed(covering, since, name)
        yield Finding(resource=f"{reviews.tenant}/{name}", passed=passed, message=message)
    if any(u.user_type.lower() == "guest" for u in users.users):
        covering = [r for r in reviews.reviews if r.guests]
        passed, message = _reviewed(covering, since, "guest users")
        yield Finding(resource=f"{reviews.tenant}/guests", passed=passed, message=message)


@check(
    id="entra.apps.user_consent_restricted",
    title="Users cannot consent to apps beyond low-risk permissions of verified publishers",
    severity="medium",
    remediation="Entra ID > Enterprise applications > Consent and permissions: 'Do not allow "
    "user consent' or 'Allow user consent for apps from verified publishers, for selected "
    "permissions'; route other requests through the admin consent workflow.",
)
def user_consent_restricted(consent: ConsentPolicy) -> Iterator[Finding]:
    """Passes with no self-consent policy, or only Microsoft's low-risk one; the legacy
    default and custom policies (whose conditions are not read) fail."""
    granted = [p for p in consent.grant_policies if p.startswith(SELF_CONSENT)]
    wider = [p.removeprefix(SELF_CONSENT) for p in granted if p != LOW_RISK_CONSENT]
    if wider:
        message = f"users may consent to apps under: {', '.join(wider)}"
    elif granted:
        message = "users may consent only to low-risk permissions of verified publishers"
    else:
        message = "user consent to apps is off"
    yield Finding(resource=consent.tenant, passed=not wider, message=message)
