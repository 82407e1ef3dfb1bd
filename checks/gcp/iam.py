"""IAM checks: public bindings, primitive roles for users, service-account key age."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from checks.api import Finding, check
from checks.gcp.models import (
    PRIMITIVE_ROLES,
    PUBLIC_MEMBERS,
    GcpIamPolicies,
    GcpServiceAccountKeys,
)


@check(
    id="gcp.iam.no_public_bindings",
    title="No IAM policy grants a role to allUsers or allAuthenticatedUsers",
    severity="critical",
    interval="6h",
    remediation="Remove the allUsers / allAuthenticatedUsers members from the resource's IAM "
    "policy; enforce the iam.allowedPolicyMemberDomains organisation policy.",
)
def no_public_bindings(policies: GcpIamPolicies) -> Iterator[Finding]:
    """One finding per resource with an IAM policy in the scope."""
    for resource, bindings in policies.by_resource().items():
        public = sorted(
            f"{m} as {b.role}" for b in bindings for m in b.members if m in PUBLIC_MEMBERS
        )
        yield Finding(
            resource=resource,
            passed=not public,
            message=f"public: {', '.join(public)}" if public else "no public members",
        )


@check(
    id="gcp.iam.no_primitive_user_roles",
    title="No user account holds the primitive Owner or Editor role",
    severity="high",
    interval="24h",
    remediation="Replace roles/owner and roles/editor grants to user: members with predefined "
    "or custom roles scoped to the job, granted to groups.",
)
def no_primitive_user_roles(policies: GcpIamPolicies) -> Iterator[Finding]:
    """Only ``user:`` members count; groups and service accounts are judged elsewhere."""
    for resource, bindings in policies.by_resource().items():
        users = sorted(
            f"{m} as {b.role}"
            for b in bindings
            if b.role in PRIMITIVE_ROLES
            for m in b.members
            if m.startswith("user:")
        )
        yield Finding(
            resource=resource,
            passed=not users,
            message=f"primitive roles held by {', '.join(users)}"
            if users
            else "no user holds roles/owner or roles/editor",
        )


@check(
    id="gcp.iam.service_account_keys_rotated",
    title="User-managed service-account keys are younger than the rotation period",
    severity="medium",
    interval="24h",
    remediation="Create a new key, move its users over, delete the old key (gcloud iam "
    "service-accounts keys create/delete); prefer workload identity over keys.",
)
def service_account_keys_rotated(snapshot: GcpServiceAccountKeys) -> Iterator[Finding]:
    """Google-managed (SYSTEM_MANAGED) keys rotate themselves; disabled keys cannot sign."""
    limit = timedelta(days=snapshot.max_age_days)
    for key in snapshot.keys:
        if key.key_type != "USER_MANAGED" or key.disabled:
            continue
        age = snapshot.collected_at - key.valid_after
        yield Finding(
            resource=key.resource,
            passed=age <= limit,
            message=f"key of {key.service_account} is {age.days} days old "
            f"(limit {snapshot.max_age_days})",
        )
