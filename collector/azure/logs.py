"""ARM collectors for log retention: Log Analytics workspaces, diagnostic settings of the
configured key resource types."""

from __future__ import annotations

from checks.azure.logs import LoggedResource, LogWorkspaces, ResourceLogExports, Workspace
from collector.azure.arm import READER, list_resources, properties
from collector.azure.errors import MalformedResponse
from collector.azure.monitoring import DIAGNOSTICS_API, diagnostic_setting
from collector.azure.scope import AzureScope
from collector.collect import collects

WORKSPACES_API = "2022-10-01"
RESOURCES_API = "2021-04-01"


@collects(LogWorkspaces, permissions=[READER])
def log_workspaces(scope: AzureScope) -> LogWorkspaces:
    """Every Log Analytics workspace with its retention (a missing one is malformed)."""
    workspaces = []
    path = "Microsoft.OperationalInsights/workspaces"
    for item in list_resources(scope, path, WORKSPACES_API):
        days = properties(item, "workspace").get("retentionInDays")
        if not isinstance(days, int):
            raise MalformedResponse(
                f"GET {scope.subscription}/providers/{path}", f"{item['id']} has no retentionInDays"
            )
        workspaces.append(
            Workspace(id=item["id"], name=item.get("name", item["id"]), retention_days=days)
        )
    return LogWorkspaces(
        minimum_days=scope.settings.log_retention_days, workspaces=tuple(workspaces)
    )


@collects(ResourceLogExports, permissions=[READER], fan_out=True)
def resource_log_exports(scope: AzureScope) -> ResourceLogExports:
    """Resources of each configured type (``/resources`` filtered by type), each with its
    diagnostic settings."""
    resources = []
    for kind in scope.settings.diagnostic_resource_types:
        listed = scope.api.list(
            f"{scope.subscription}/resources",
            api_version=RESOURCES_API,
            params={"$filter": f"resourceType eq '{kind}'"},
            requires=READER,
        )
        for item in listed:
            settings = scope.api.list(
                f"{item['id']}/providers/Microsoft.Insights/diagnosticSettings",
                api_version=DIAGNOSTICS_API,
                requires=READER,
            )
            resources.append(
                LoggedResource(
                    id=item["id"],
                    kind=item.get("type") or kind,
                    settings=tuple(diagnostic_setting(s) for s in settings),
                )
            )
    return ResourceLogExports(resources=tuple(resources))
