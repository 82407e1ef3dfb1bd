"""IAM collectors: policy bindings, audit configs and service-account keys of a scope."""

from __future__ import annotations

from typing import Any

from checks.gcp.models import (
    AuditConfig,
    GcpAuditConfigs,
    GcpIamPolicies,
    GcpServiceAccountKeys,
    IamBinding,
    PolicyHolder,
    ServiceAccountKey,
)
from collector.collect import collects
from collector.gcp.scope import LIST_IAM_POLICY, LIST_RESOURCE, SEARCH_IAM_POLICIES, GcpScope

RESOURCE_MANAGER = "cloudresourcemanager.googleapis.com"
HOLDER_TYPES = tuple(f"{RESOURCE_MANAGER}/{t}" for t in ("Organization", "Folder", "Project"))
SA_KEY = "iam.googleapis.com/ServiceAccountKey"


@collects(GcpIamPolicies, permissions=[f"gcp:{SEARCH_IAM_POLICIES}"])
def iam_policies(scope: GcpScope) -> GcpIamPolicies:
    """One ``searchAllIamPolicies`` sweep: every binding on every resource in the scope."""
    bindings = [
        IamBinding(
            resource=result["resource"],
            role=binding["role"],
            members=tuple(binding.get("members", ())),
        )
        for result in scope.search_iam_policies()
        for binding in result.get("policy", {}).get("bindings", ())
    ]
    return GcpIamPolicies(bindings=tuple(bindings))


def _audit_config(entry: dict[str, Any]) -> AuditConfig:
    return AuditConfig(
        service=entry["service"],
        log_types={
            log["logType"]: tuple(log.get("exemptedMembers", ()))
            for log in entry.get("auditLogConfigs", ())
        },
    )


@collects(GcpAuditConfigs, permissions=[f"gcp:{LIST_IAM_POLICY}"])
def audit_configs(scope: GcpScope) -> GcpAuditConfigs:
    """``ListAssets`` IAM_POLICY over organisations, folders and projects (auditConfigs live
    on their IAM policies; a holder without one has no audit config)."""
    holders = []
    for asset in scope.list_assets("IAM_POLICY", HOLDER_TYPES):
        name = asset["name"].removeprefix(f"//{RESOURCE_MANAGER}/")
        ancestors = [a for a in asset.get("ancestors", ()) if a != name]
        configs = asset.get("iamPolicy", {}).get("auditConfigs", ())
        holders.append(
            PolicyHolder(
                resource=asset["name"],
                name=name,
                ancestors=tuple(ancestors),
                audit_configs=tuple(_audit_config(c) for c in configs),
            )
        )
    return GcpAuditConfigs(holders=tuple(holders))


@collects(GcpServiceAccountKeys, permissions=[f"gcp:{LIST_RESOURCE}"])
def service_account_keys(scope: GcpScope) -> GcpServiceAccountKeys:
    """``ListAssets`` RESOURCE over ServiceAccountKey: type, state and creation time only."""
    keys = []
    for asset in scope.list_assets("RESOURCE", [SA_KEY]):
        data = asset["resource"]["data"]
        account = data["name"].partition("/serviceAccounts/")[2].partition("/keys/")[0]
        keys.append(
            ServiceAccountKey(
                resource=asset["name"],
                service_account=account,
                key_type=data.get("keyType", "USER_MANAGED"),
                disabled=bool(data.get("disabled", False)),
                valid_after=data["validAfterTime"],
            )
        )
    return GcpServiceAccountKeys(
        collected_at=scope.now(),
        max_age_days=scope.settings.key_rotation_days,
        keys=tuple(keys),
    )
