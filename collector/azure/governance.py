"""Microsoft Graph collectors for identity governance: PIM role schedules, access review
definitions with their instances, the authorization policy (user consent)."""

from __future__ import annotations

import re
from typing import Any

from checks.entra.governance import (
    AccessReview,
    AccessReviews,
    ConsentPolicy,
    PimAssignments,
    ReviewInstance,
    RoleAssignment,
)
from collector.azure.entra import POLICIES, needs
from collector.azure.errors import MalformedResponse
from collector.azure.scope import AzureScope
from collector.collect import collects

PIM = ("graph:RoleManagement.Read.Directory",)
REVIEWS = ("graph:AccessReview.Read.All",)
_ROLE_IN_QUERY = re.compile(
    r"(?:roleDefinitions/|roleDefinitionId\s+eq\s+')([0-9a-f]{8}-[0-9a-f-]{27})", re.IGNORECASE
)
_GUESTS_IN_QUERY = re.compile(r"userType\s+eq\s+'Guest'", re.IGNORECASE)


@collects(PimAssignments, permissions=PIM)
def pim_assignments(scope: AzureScope) -> PimAssignments:
    """Role assignment schedules (active) and eligibility schedules, each with its principal."""
    params = {"$expand": "principal"}
    active = scope.api.list(
        "/roleManagement/directory/roleAssignmentSchedules", params=params, requires=needs(PIM)
    )
    eligible = scope.api.list(
        "/roleManagement/directory/roleEligibilitySchedules", params=params, requires=needs(PIM)
    )
    return PimAssignments(
        tenant=scope.target.account,
        active=tuple(_schedule(s, None) for s in active),
        eligible=tuple(_schedule(s, "Eligible") for s in eligible),
        break_glass=tuple(scope.settings.entra.break_glass_accounts),
    )


def _schedule(item: dict[str, Any], kind: str | None) -> RoleAssignment:
    request = "GET /v1.0/roleManagement/directory/role schedules"
    missing = [k for k in ("roleDefinitionId", "principalId", "scheduleInfo") if not item.get(k)]
    assignment_type = kind or item.get("assignmentType")
    if missing or not assignment_type:
        raise MalformedResponse(
            request, f"{item.get('id')} has no {', '.join(missing) or 'assignmentType'}"
        )
    expiration = item["scheduleInfo"].get("expiration") or {}
    if expiration.get("type") not in ("noExpiration", "afterDateTime", "afterDuration"):
        raise MalformedResponse(request, f"{item.get('id')} has no known expiration type")
    principal = item.get("principal") or {}
    return RoleAssignment(
        role_id=item["roleDefinitionId"],
        principal_id=item["principalId"],
        principal=principal.get("userPrincipalName")
        or principal.get("displayName")
        or item["principalId"],
        kind=str(principal.get("@odata.type", "")).rpartition(".")[2] or "unknown",
        assignment_type=assignment_type,
        ends_at=None if expiration["type"] == "noExpiration" else expiration.get("endDateTime"),
    )


@collects(AccessReviews, permissions=REVIEWS, fan_out=True)
def access_reviews(scope: AzureScope) -> AccessReviews:
    """Access review definitions, what their scopes select (roles, guests) and their instances."""
    definitions = scope.api.list(
        "/identityGovernance/accessReviews/definitions", requires=needs(REVIEWS)
    )
    reviews = []
    for item in definitions:
        queries = " ".join(
            _queries(item.get("scope")) + _queries(item.get("instanceEnumerationScope"))
        )
        instances = scope.api.list(
            f"/identityGovernance/accessReviews/definitions/{item['id']}/instances",
            requires=needs(REVIEWS),
        )
        reviews.append(
            AccessReview(
                id=item["id"],
                name=item.get("displayName") or item["id"],
                role_ids=tuple(sorted({m.lower() for m in _ROLE_IN_QUERY.findall(queries)})),
                guests=bool(_GUESTS_IN_QUERY.search(queries)),
                auto_apply=(item.get("settings") or {}).get("autoApplyDecisionsEnabled") is True,
                instances=tuple(
                    ReviewInstance(status=i.get("status") or "", ended_at=i.get("endDateTime"))
                    for i in instances
                ),
            )
        )
    return AccessReviews(
        tenant=scope.target.account,
        collected_at=scope.now(),
        max_age_days=scope.settings.entra.access_review_days,
        reviews=tuple(reviews),
    )


def _queries(node: Any) -> list[str]:
    """Every ``query`` string in a scope tree (accessReviewQueryScope, principalResource...)."""
    if isinstance(node, dict):
        found = [node["query"]] if isinstance(node.get("query"), str) else []
        return found + [q for value in node.values() for q in _queries(value)]
    if isinstance(node, list):
        return [q for value in node for q in _queries(value)]
    return []


@collects(ConsentPolicy, permissions=POLICIES)
def consent_policy(scope: AzureScope) -> ConsentPolicy:
    """``/policies/authorizationPolicy``: the grant policies every user holds (a missing list
    is malformed, never "no consent")."""
    answer = scope.api.get("/policies/authorizationPolicy", requires=needs(POLICIES))
    policy = (
        answer["value"][0] if isinstance(answer.get("value"), list) and answer["value"] else answer
    )
    assigned = (policy.get("defaultUserRolePermissions") or {}).get(
        "permissionGrantPoliciesAssigned"
    )
    if not isinstance(assigned, list):
        raise MalformedResponse(
            "GET /v1.0/policies/authorizationPolicy",
            "no defaultUserRolePermissions.permissionGrantPoliciesAssigned",
        )
    return ConsentPolicy(tenant=scope.target.account, grant_policies=tuple(map(str, assigned)))
