"""Log retention and resource logs: Log Analytics workspaces keep data long enough; key
resources export their logs through a diagnostic setting."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.azure.models import DiagnosticSetting, _AzureSnapshot


class Workspace(SnapshotPart):
    id: str
    name: str
    retention_days: int  # the workspace default (tables may override it)


class LogWorkspaces(_AzureSnapshot):
    """The subscription's Log Analytics workspaces and the required minimum retention."""

    resource_noun: ClassVar[str] = "Log Analytics workspaces"
    minimum_days: int
    workspaces: tuple[Workspace, ...]


class LoggedResource(SnapshotPart):
    id: str
    kind: str  # the resource type, e.g. Microsoft.KeyVault/vaults
    settings: tuple[DiagnosticSetting, ...]


class ResourceLogExports(_AzureSnapshot):
    """Resources of the configured types with their diagnostic settings."""

    resource_noun: ClassVar[str] = "key resources"
    resources: tuple[LoggedResource, ...]


@check(
    id="azure.monitor.workspace_retention_minimum",
    title="Log Analytics workspaces keep data at least the required time",
    severity="medium",
    interval="24h",
    remediation="Raise the workspace's retention (az monitor log-analytics workspace update "
    "--retention-time <days at least azure.log_retention_days>), or archive to storage.",
)
def workspace_retention_minimum(snapshot: LogWorkspaces) -> Iterator[Finding]:
    """One finding per workspace, judged on its default retention."""
    for ws in snapshot.workspaces:
        kept = ws.retention_days >= snapshot.minimum_days
        yield Finding(
            resource=ws.id,
            passed=kept,
            message=f"{ws.name} keeps data {ws.retention_days} days "
            f"(minimum {snapshot.minimum_days})",
        )


@check(
    id="azure.monitor.resource_logs_exported",
    title="Key resources export their logs through a diagnostic setting",
    severity="medium",
    interval="24h",
    remediation="Add a diagnostic setting to the resource sending allLogs (or audit) to a Log "
    "Analytics workspace, storage account or event hub; the types judged are "
    "azure.diagnostic_resource_types.",
)
def resource_logs_exported(snapshot: ResourceLogExports) -> Iterator[Finding]:
    """One finding per resource: some setting with a destination has a log category on."""
    for resource in snapshot.resources:
        good = [s.name for s in resource.settings if s.destinations and s.categories]
        if good:
            message = f"logs exported by {', '.join(good)}"
        elif resource.settings:
            message = "diagnostic settings export no logs to a destination"
        else:
            message = "no diagnostic setting"
        yield Finding(resource=resource.id, passed=bool(good), message=message)
