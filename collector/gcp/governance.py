"""Log buckets (Cloud Asset RESOURCE content) and organisation policies (ORG_POLICY content)."""

from __future__ import annotations

from typing import Any

from checks.gcp.log_buckets import GcpLogBuckets, LogBucket
from checks.gcp.org_policy import ConstraintPolicy, GcpOrgPolicies
from collector.collect import collects
from collector.gcp.scope import LIST_ORG_POLICY, LIST_RESOURCE, GcpScope

LOG_BUCKET = "logging.googleapis.com/LogBucket"
HOLDERS = (
    "cloudresourcemanager.googleapis.com/Organization",
    "cloudresourcemanager.googleapis.com/Folder",
    "cloudresourcemanager.googleapis.com/Project",
)
DEFAULT_RETENTION_DAYS = 30  # the Logging API's documented default when none is set


@collects(GcpLogBuckets, permissions=[f"gcp:{LIST_RESOURCE}"])
def log_buckets(scope: GcpScope) -> GcpLogBuckets:
    """A bucket without ``lifecycleState`` cannot be judged: KeyError, an ERROR."""
    found = []
    for asset in scope.list_assets("RESOURCE", [LOG_BUCKET]):
        data = asset["resource"]["data"]
        found.append(
            LogBucket(
                resource=asset["name"],
                bucket_id=data["name"].rsplit("/", 1)[-1],
                retention_days=data.get("retentionDays") or DEFAULT_RETENTION_DAYS,
                locked=bool(data.get("locked", False)),
                lifecycle_state=data["lifecycleState"],
            )
        )
    return GcpLogBuckets(minimum_days=scope.settings.log_retention_days, buckets=tuple(found))


def _policy(node: str, policy: dict[str, Any]) -> ConstraintPolicy:
    listed = policy.get("listPolicy")
    boolean = policy.get("booleanPolicy")
    return ConstraintPolicy(
        node=node,
        constraint=policy["constraint"].removeprefix("constraints/"),
        enforced=bool(boolean.get("enforced", False)) if boolean is not None else None,
        all_values=(listed or {}).get("allValues"),
        allowed_values=tuple((listed or {}).get("allowedValues", ())),
        denied_values=tuple((listed or {}).get("deniedValues", ())),
        inherit_from_parent=bool((listed or {}).get("inheritFromParent", False)),
        restore_default="restoreDefault" in policy,
    )


@collects(GcpOrgPolicies, permissions=[f"gcp:{LIST_ORG_POLICY}"])
def org_policies(scope: GcpScope) -> GcpOrgPolicies:
    """Policies set on the organisation and every folder and project under it. A folder or
    project scope cannot see the policies it inherits, so it is an error, not a verdict."""
    if not scope.name.startswith("organizations/"):
        raise ValueError(
            f"organisation policies are judged at an organizations/<id> scope; {scope.name} "
            "cannot see the policies it inherits"
        )
    policies = []
    for asset in scope.list_assets("ORG_POLICY", HOLDERS):
        node = asset["name"].removeprefix("//cloudresourcemanager.googleapis.com/")
        policies.extend(_policy(node, p) for p in asset.get("orgPolicy", ()))
    return GcpOrgPolicies(
        organization=scope.name,
        required=tuple(scope.settings.required_org_constraints),
        policies=tuple(policies),
    )
