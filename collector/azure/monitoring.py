"""ARM collectors for security monitoring: Defender for Cloud plans, Activity Log export."""

from __future__ import annotations

from typing import Any

from checks.azure.models import ActivityLogExports, DefenderPlan, DefenderPlans, DiagnosticSetting
from collector.azure.arm import READER, list_resources, properties
from collector.azure.scope import AzureScope
from collector.collect import collects

SECURITY_API = "2024-01-01"
DIAGNOSTICS_API = "2021-05-01-preview"
_DESTINATIONS = {
    "workspaceId": "log analytics workspace",
    "storageAccountId": "storage account",
    "eventHubAuthorizationRuleId": "event hub",
    "marketplacePartnerId": "partner solution",
}


@collects(DefenderPlans, permissions=[READER])
def defender_plans(scope: AzureScope) -> DefenderPlans:
    """The subscription's Defender for Cloud pricing tiers, and the plans the config requires."""
    plans = []
    for item in list_resources(scope, "Microsoft.Security/pricings", SECURITY_API):
        props = properties(item, "Defender plan")
        plans.append(
            DefenderPlan(id=item["id"], name=item["name"], tier=props.get("pricingTier", ""))
        )
    return DefenderPlans(
        subscription=scope.subscription,
        plans=tuple(plans),
        required=tuple(scope.settings.defender_plans),
    )


@collects(ActivityLogExports, permissions=[READER])
def activity_log_exports(scope: AzureScope) -> ActivityLogExports:
    """The subscription-level diagnostic settings that export the Activity Log."""
    listed = list_resources(scope, "Microsoft.Insights/diagnosticSettings", DIAGNOSTICS_API)
    settings = tuple(diagnostic_setting(item) for item in listed)
    return ActivityLogExports(subscription=scope.subscription, settings=settings)


def diagnostic_setting(item: dict[str, Any]) -> DiagnosticSetting:
    """A diagnostic setting's destinations and enabled log categories (or category groups)."""
    props = properties(item, "diagnostic setting")
    return DiagnosticSetting(
        id=item["id"],
        name=item.get("name", item["id"]),
        destinations=tuple(kind for key, kind in _DESTINATIONS.items() if props.get(key)),
        categories=tuple(
            log.get("category") or log.get("categoryGroup") or ""
            for log in props.get("logs") or []
            if log.get("enabled") is True
        ),
    )
