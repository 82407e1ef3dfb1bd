"""ARM collector for activity log alerts (``Microsoft.Insights/activityLogAlerts``)."""

from __future__ import annotations

from typing import Any

from checks.azure.alerts import ActivityLogAlert, ActivityLogAlerts
from collector.azure.arm import READER, list_resources, properties
from collector.azure.scope import AzureScope
from collector.collect import collects

ALERTS_API = "2020-10-01"


@collects(ActivityLogAlerts, permissions=[READER])
def activity_log_alerts(scope: AzureScope) -> ActivityLogAlerts:
    """Every activity log alert: what its condition matches, where, and who it notifies."""
    alerts = []
    for item in list_resources(scope, "Microsoft.Insights/activityLogAlerts", ALERTS_API):
        props = properties(item, "activity log alert")
        leaves = _leaves(props.get("condition") or {})
        alerts.append(
            ActivityLogAlert(
                id=item["id"],
                name=item.get("name", item["id"]),
                enabled=props.get("enabled", True) is True,  # documented default: true
                covers_subscription=any(
                    str(s).lower().rstrip("/") == scope.subscription.lower()
                    for s in props.get("scopes") or ()
                ),
                operations=_values(leaves, "operationname"),
                categories=_values(leaves, "category"),
                action_groups=len((props.get("actions") or {}).get("actionGroups") or ()),
            )
        )
    return ActivityLogAlerts(
        subscription=scope.subscription,
        required=tuple(scope.settings.change_alert_operations),
        alerts=tuple(alerts),
    )


def _leaves(condition: dict[str, Any]) -> list[dict[str, Any]]:
    """The leaf conditions of ``allOf``, including those nested in an ``anyOf``."""
    found = []
    for part in condition.get("allOf") or ():
        if isinstance(part, dict):
            found += [p for p in part.get("anyOf") or () if isinstance(p, dict)]
            found.append(part)
    return [p for p in found if p.get("field")]


def _values(leaves: list[dict[str, Any]], field: str) -> tuple[str, ...]:
    """Values a leaf on ``field`` accepts: ``equals``, or each of ``containsAny``."""
    found: list[str] = []
    for leaf in leaves:
        if str(leaf["field"]).lower() == field:
            found += [leaf["equals"]] if leaf.get("equals") else []
            found += [str(v) for v in leaf.get("containsAny") or ()]
    return tuple(v.lower() for v in found)
