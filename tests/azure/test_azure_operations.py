"""Operations evidence on Azure: Defender vulnerabilities and alerts, backup jobs and restores,
log retention, resource logs, policy compliance. Recorded ARM answers (see SOURCES.md) through
the real client -> snapshots -> verdicts; a denied or incomplete answer is an error."""

from __future__ import annotations

import httpx
import pytest
import respx

from checks.azure import alerts, backup, defender, logs, policy
from checks.azure.alerts import ActivityLogAlerts
from checks.azure.backup import BackupJobs
from checks.azure.defender import DefenderAlerts, DefenderVulnerabilities
from checks.azure.logs import LogWorkspaces, ResourceLogExports
from checks.azure.models import BackupProtectedItems
from checks.azure.policy import PolicyCompliance
from checks.testing import findings, verdicts
from collector.azure.errors import AzureApiError, MalformedResponse
from collector.collect import Target
from collector.settings import AzureSettings
from tests.azure.fakes import RG, SUB, SUBSCRIPTION, arm, azure_cache, collect, recording, serve

VM = f"{RG}/Microsoft.Compute/virtualMachines"
ACR_IMAGE = (
    f"{RG}/Microsoft.ContainerRegistry/registries/acrprod/repositories/web/images/sha256:4af8"
)
ALERTS = f"{SUB}/resourceGroups/rg-prod/providers/Microsoft.Security/locations/westeurope/alerts"
VAULT = f"{RG}/Microsoft.RecoveryServices/vaults/rsv-prod"
KV = f"{RG}/Microsoft.KeyVault/vaults"
SKIP = "$skipToken"


def serve_defender(api: respx.MockRouter) -> None:
    path = arm(f"{SUB}/providers/Microsoft.Security/assessments")
    serve(api, path, "arm/defender_assessments_page2.json", **{SKIP: "eyJza2lwIjozfQ"})
    serve(api, path, "arm/defender_assessments_page1.json", **{"api-version": "2021-06-01"})
    serve(
        api,
        arm(f"{SUB}/providers/Microsoft.Security/subAssessments"),
        "arm/defender_sub_assessments.json",
        **{"api-version": "2019-01-01-preview"},
    )
    alerts = arm(f"{SUB}/providers/Microsoft.Security/alerts")
    serve(api, alerts, "arm/defender_alerts_page2.json", **{SKIP: "YWxlcnRzMg"})
    serve(api, alerts, "arm/defender_alerts_page1.json", **{"api-version": "2022-01-01"})


def test_vulnerabilities_past_the_sla(api: respx.MockRouter) -> None:
    serve_defender(api)
    vulns = collect(DefenderVulnerabilities)
    assert verdicts(defender.vulnerabilities_within_sla, vulns) == {
        (f"{VM}/vm-web", False),  # two highs, unhealthy since 1 April: 60 days
        (f"{VM}/vm-app", True),  # one high, unhealthy since 20 May: 12 days
        (ACR_IMAGE, False),  # critical (MDVM detail), its assessment gives no date
        (f"{VM}/vm-legacy", False),  # no vulnerability scanner on it
    }
    messages = {f.resource: f.message for f in findings(defender.vulnerabilities_within_sla, vulns)}
    assert messages[f"{VM}/vm-web"] == (
        "2 high/critical (CVE-2023-44487, CVE-2024-21626), unresolved for 60 days "
        "(over the 30-day SLA)"
    )
    assert messages[ACR_IMAGE] == "1 high/critical (CVE-2024-3094), open since an unknown date"
    relaxed = collect(DefenderVulnerabilities, settings=AzureSettings(vulnerability_sla_days=90))
    assert (f"{VM}/vm-web", True) in verdicts(defender.vulnerabilities_within_sla, relaxed)


def test_high_alerts_triaged(api: respx.MockRouter) -> None:
    serve_defender(api)
    alerts = collect(DefenderAlerts)
    assert verdicts(defender.high_alerts_triaged, alerts) == {
        (f"{ALERTS}/2517538088322968242_a1", False),  # Active for 31 days
        (f"{ALERTS}/2517538088322968242_a2", True),  # Active for 2 days
        (f"{ALERTS}/2517538088322968242_a4", True),  # In progress: someone took it
    }  # medium, resolved and dismissed alerts are not judged
    assert findings(defender.high_alerts_triaged, alerts)[0].message == (
        "Suspicious process executed on vm-web: Active for 30 days (deadline 7)"
    )


def test_defender_denied_or_malformed_is_an_error(api: respx.MockRouter) -> None:
    path = arm(f"{SUB}/providers/Microsoft.Security/alerts")
    serve(api, path, "arm/error_authorization_failed.json", status=403)
    with pytest.raises(AzureApiError) as denied:
        collect(DefenderAlerts)
    assert denied.value.status == 403 and "missing permission" in denied.value.cause
    page = recording("arm/defender_alerts_page2.json")
    del page["value"][0]["properties"]["severity"]
    api.routes.clear()
    serve(api, path, body=page)
    with pytest.raises(MalformedResponse, match="has no severity"):
        collect(DefenderAlerts)


def test_alerts_paging_stops_at_a_repeated_link(api: respx.MockRouter) -> None:
    """A next link that loops is an incomplete list, never a short pass."""
    page = recording("arm/defender_alerts_page1.json")
    api.get(arm(f"{SUB}/providers/Microsoft.Security/alerts")).mock(
        return_value=httpx.Response(200, json=page)
    )
    with pytest.raises(MalformedResponse, match="bad next link"):
        collect(DefenderAlerts)


def serve_backup(api: respx.MockRouter) -> None:
    serve(api, arm(f"{SUB}/providers/Microsoft.RecoveryServices/vaults"), "arm/vaults.json")
    serve(api, arm(f"{VAULT}/backupProtectedItems"), "arm/backup_items.json")
    jobs = arm(f"{VAULT}/backupJobs")
    serve(api, jobs, "arm/backup_jobs_page2.json", **{SKIP: "am9iczI"})
    window = (
        "backupManagementType eq 'AzureIaasVM' and startTime eq '2024-03-03 12:00:00 AM' "
        "and endTime eq '2024-06-01 12:00:00 AM'"
    )
    serve(api, jobs, "arm/backup_jobs_page1.json", **{"$filter": window})


def test_backup_jobs_and_restores(api: respx.MockRouter) -> None:
    serve_backup(api)
    cache = azure_cache()
    target = Target("azure", SUBSCRIPTION)
    items, jobs = cache.get(BackupProtectedItems, target), cache.get(BackupJobs, target)
    assert verdicts(backup.jobs_succeeded, items, jobs) == {
        (f"{VM}/vm-host", True),  # newest Completed, an older one Failed
        (f"{VM}/vm-db", False),  # newest Failed
        (f"{VM}/vm-new", False),  # first backup pending, no backup job yet
    }  # vm-gone: protection stopped, judged by azure.backup.vms_protected
    assert [f.message for f in findings(backup.jobs_succeeded, items, jobs)] == [
        "newest backup job (2024-05-31) is Completed",
        "newest backup job (2024-05-31) is Failed",
        "no backup job in the last 2 days",
    ]
    [restore] = findings(backup.restore_tested, items, jobs)
    assert (restore.resource, restore.passed) == (SUB, True)
    assert restore.message == "1 completed restores in the last 90 days, newest 2024-04-15"
    short = azure_cache(settings=AzureSettings(restore_test_days=30))
    api.routes.clear()
    serve_backup_short(api)
    late = findings(
        backup.restore_tested,
        short.get(BackupProtectedItems, target),
        short.get(BackupJobs, target),
    )
    assert [(f.passed, f.message) for f in late] == [
        (False, "no completed restore in the last 30 days (1 restore jobs tried)")
    ]


def serve_backup_short(api: respx.MockRouter) -> None:
    """The same vault with a 30-day window: only the jobs the API returns for it."""
    serve(api, arm(f"{SUB}/providers/Microsoft.RecoveryServices/vaults"), "arm/vaults.json")
    serve(api, arm(f"{VAULT}/backupProtectedItems"), "arm/backup_items.json")
    page = recording("arm/backup_jobs_page2.json")
    page["value"] = [j for j in page["value"] if j["properties"]["startTime"] >= "2024-05-02"]
    serve(api, arm(f"{VAULT}/backupJobs"), body=page)


def test_backup_job_without_status_is_an_error(api: respx.MockRouter) -> None:
    serve(api, arm(f"{SUB}/providers/Microsoft.RecoveryServices/vaults"), "arm/vaults.json")
    serve(api, arm(f"{VAULT}/backupProtectedItems"), "arm/backup_items.json")
    page = recording("arm/backup_jobs_page2.json")
    page["value"][0]["properties"]["status"] = None
    serve(api, arm(f"{VAULT}/backupJobs"), body=page)
    with pytest.raises(MalformedResponse, match="has no status"):
        collect(BackupJobs)


def test_workspace_retention(api: respx.MockRouter) -> None:
    path = arm(f"{SUB}/providers/Microsoft.OperationalInsights/workspaces")
    serve(api, path, "arm/workspaces.json", **{"api-version": "2022-10-01"})
    workspaces = collect(LogWorkspaces)
    law = f"{SUB}/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces"
    assert verdicts(logs.workspace_retention_minimum, workspaces) == {
        (f"{law}/law-security", True),
        (f"{law}/law-apps", False),
    }
    assert findings(logs.workspace_retention_minimum, workspaces)[1].message == (
        "law-apps keeps data 30 days (minimum 365)"
    )
    broken = recording("arm/workspaces.json")
    broken["value"][1]["properties"]["retentionInDays"] = None
    api.routes.clear()
    serve(api, path, body=broken)
    with pytest.raises(MalformedResponse, match="law-apps has no retentionInDays"):
        collect(LogWorkspaces)


def serve_resource_logs(api: respx.MockRouter) -> None:
    resources = arm(f"{SUB}/resources")
    serve(
        api,
        resources,
        "arm/resources_keyvaults.json",
        **{"$filter": "resourceType eq 'Microsoft.KeyVault/vaults'"},
    )
    serve(api, resources, body={"value": []})  # firewalls, application gateways: none
    for name in ("kv-logged", "kv-metrics"):
        serve(
            api,
            arm(f"{KV}/{name}/providers/Microsoft.Insights/diagnosticSettings"),
            f"arm/diagnostics_{name}.json",
        )
    serve(
        api,
        arm(f"{KV}/kv-silent/providers/Microsoft.Insights/diagnosticSettings"),
        body={"value": []},
    )


def test_resource_logs_exported(api: respx.MockRouter) -> None:
    serve_resource_logs(api)
    exports = collect(ResourceLogExports)
    assert verdicts(logs.resource_logs_exported, exports) == {
        (f"{KV}/kv-logged", True),  # the second setting sends the audit group
        (f"{KV}/kv-silent", False),
        (f"{KV}/kv-metrics", False),  # metrics only
    }
    assert [f.message for f in findings(logs.resource_logs_exported, exports)] == [
        "logs exported by to-law",
        "no diagnostic setting",
        "diagnostic settings export no logs to a destination",
    ]


def summarize(api: respx.MockRouter, **kwargs: object) -> respx.Route:
    path = arm(f"{SUB}/providers/Microsoft.PolicyInsights/policyStates/latest/summarize")
    route = api.post(path, params={"api-version": "2019-10-01"})
    return route.mock(return_value=httpx.Response(**kwargs))  # type: ignore[arg-type]


def test_policy_compliance(api: respx.MockRouter) -> None:
    route = summarize(api, status_code=200, json=recording("arm/policy_summary.json"))
    compliance = collect(PolicyCompliance)
    assignments = f"{SUB}/providers/microsoft.authorization/policyassignments"
    assert verdicts(policy.assignments_compliant, compliance) == {
        (f"{assignments}/securitycenterbuiltin", False),
        (f"{assignments}/allowed-locations", True),
        (SUB, False),
    }
    assert route.call_count == 1
    empty = recording("arm/policy_summary.json")
    empty["value"][0]["results"]["nonCompliantResources"] = 0
    empty["value"][0]["policyAssignments"] = []
    api.routes.clear()
    summarize(api, status_code=200, json=empty)
    assert findings(policy.assignments_compliant, collect(PolicyCompliance)) == []


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (403, "arm/error_authorization_failed.json", AzureApiError),
        (200, {"value": []}, MalformedResponse),  # no summary at all
        (200, {"value": [{"results": {"nonCompliantResources": 1}}]}, MalformedResponse),
    ],
)
def test_policy_compliance_unknown_is_an_error(
    api: respx.MockRouter, status: int, body: object, error: type[Exception]
) -> None:
    content = recording(body) if isinstance(body, str) else body
    summarize(api, status_code=status, json=content)
    with pytest.raises(error):
        collect(PolicyCompliance)


def test_vulnerability_without_severity_or_denied_is_an_error(api: respx.MockRouter) -> None:
    serve_defender(api)
    subs = recording("arm/defender_sub_assessments.json")
    del subs["value"][4]["properties"]["status"]["severity"]  # vm-app's high finding
    path = arm(f"{SUB}/providers/Microsoft.Security/subAssessments")
    api.routes.clear()
    serve(api, path, body=subs)
    page = arm(f"{SUB}/providers/Microsoft.Security/assessments")
    serve(api, page, "arm/defender_assessments_page2.json", **{SKIP: "eyJza2lwIjozfQ"})
    serve(api, page, "arm/defender_assessments_page1.json")
    with pytest.raises(
        MalformedResponse, match=r"subAssessments: CVE-2024-6387 has no status\.severity"
    ):
        collect(DefenderVulnerabilities)
    api.routes.clear()
    serve(api, page, "arm/error_authorization_failed.json", status=403)
    with pytest.raises(AzureApiError) as denied:
        collect(DefenderVulnerabilities)
    assert denied.value.permission == "Microsoft.Storage/storageAccounts/read"  # as ARM names it


def test_resource_logs_denied_is_an_error(api: respx.MockRouter) -> None:
    serve_resource_logs(api)
    api.routes.clear()
    serve(
        api,
        arm(f"{KV}/kv-logged/providers/Microsoft.Insights/diagnosticSettings"),
        "arm/error_authorization_failed.json",
        status=403,
    )
    serve(api, arm(f"{SUB}/resources"), "arm/resources_keyvaults.json")
    with pytest.raises(AzureApiError, match="HTTP 403 AuthorizationFailed"):
        collect(ResourceLogExports)


def test_change_alerts(api: respx.MockRouter) -> None:
    path = arm(f"{SUB}/providers/Microsoft.Insights/activityLogAlerts")
    serve(api, path, "arm/activity_log_alerts.json", **{"api-version": "2020-10-01"})
    watched = collect(ActivityLogAlerts)
    ops = f"{SUB}/operations"
    assert verdicts(alerts.change_alerts, watched) == {
        (f"{ops}/Microsoft.Authorization/policyAssignments/write", True),  # anyOf
        (f"{ops}/Microsoft.Authorization/policyAssignments/delete", True),
        (f"{ops}/Microsoft.Network/networkSecurityGroups/write", False),  # no action group
        (f"{ops}/Microsoft.Network/networkSecurityGroups/delete", False),  # disabled
        (f"{ops}/Microsoft.Network/networkSecurityGroups/securityRules/write", False),  # one RG
        (f"{ops}/Microsoft.Network/networkSecurityGroups/securityRules/delete", False),
        (f"{ops}/Microsoft.Security/securitySolutions/write", True),  # containsAny
        (f"{ops}/Microsoft.Security/securitySolutions/delete", True),
        (f"{ops}/Microsoft.Sql/servers/firewallRules/write", True),  # lower case, enabled unset
        (f"{ops}/Microsoft.Sql/servers/firewallRules/delete", False),  # ServiceHealth category
    }
    api.routes.clear()
    serve(api, path, "arm/error_authorization_failed.json", status=403)
    with pytest.raises(AzureApiError):
        collect(ActivityLogAlerts)
