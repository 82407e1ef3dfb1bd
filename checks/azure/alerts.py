"""Activity log alerts: security-relevant control-plane changes reach a person."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.azure.models import _AzureSnapshot


class ActivityLogAlert(SnapshotPart):
    id: str
    name: str
    enabled: bool
    covers_subscription: bool  # a scope is the subscription itself
    operations: tuple[str, ...]  # operationName values its condition matches (lower case)
    categories: tuple[str, ...]  # category values it requires (empty: any)
    action_groups: int


class ActivityLogAlerts(_AzureSnapshot):
    resource_noun: ClassVar[str] = "watched operations"
    subscription: str
    required: tuple[str, ...]  # the operations the config asks to watch
    alerts: tuple[ActivityLogAlert, ...]


def _watches(alert: ActivityLogAlert, operation: str) -> bool:
    return (
        alert.enabled
        and alert.covers_subscription
        and alert.action_groups > 0
        and operation.lower() in alert.operations
        and (not alert.categories or "administrative" in alert.categories)
    )


@check(
    id="azure.monitor.change_alerts",
    title="Activity log alerts notify on policy, NSG, security solution and SQL firewall changes",
    severity="medium",
    interval="24h",
    remediation="Create an activity log alert per operation (az monitor activity-log alert "
    "create --scope /subscriptions/<id> --condition category=Administrative and "
    "operationName=<operation> --action-group <group>); the operations judged are "
    "azure.change_alert_operations.",
)
def change_alerts(snapshot: ActivityLogAlerts) -> Iterator[Finding]:
    """One finding per required operation: an enabled alert on the whole subscription, with an
    action group, whose condition names the operation (Administrative category or any)."""
    for operation in snapshot.required:
        names = [a.name for a in snapshot.alerts if _watches(a, operation)]
        yield Finding(
            resource=f"{snapshot.subscription}/operations/{operation}",
            passed=bool(names),
            message=f"alerted by {', '.join(names)}"
            if names
            else "no enabled subscription-wide alert with an action group watches it",
        )
