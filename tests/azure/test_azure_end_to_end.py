"""One real run: Runner over one tenant (entra, intune) and one subscription (azure) into an
evidence store, every API answered by recordings; errors are stored as ERROR with causes."""

from __future__ import annotations

import httpx
import respx

from collector.azure.accounts import resolve_accounts
from collector.runner import Runner
from collector.settings import AzureSettings, AzureTenant, EntraPolicy
from storage import EvidenceStore
from tests.azure import test_azure_arm_data as data
from tests.azure import test_azure_arm_infra as infra
from tests.azure import test_azure_entra as entra
from tests.azure import test_azure_governance as governance
from tests.azure import test_azure_intune as intune
from tests.azure import test_azure_intune_app_protection as app_protection
from tests.azure import test_azure_intune_leavers as leavers
from tests.azure import test_azure_operations as ops
from tests.azure.fakes import (
    NOW,
    SUB,
    SUBSCRIPTION,
    TENANT,
    FakeCredential,
    arm,
    graph,
    recording,
    registry,
    serve,
)


def serve_estate(api: respx.MockRouter) -> dict[str, respx.Route]:
    serve(api, arm(f"/subscriptions/{SUBSCRIPTION}"), "arm/subscription.json")
    data.serve_storage(api)
    serve(api, arm(f"{SUB}/providers/Microsoft.KeyVault/vaults"), body={"value": {"id": "x"}})
    serve(api, arm(f"{SUB}/providers/Microsoft.Sql/servers"), body={"value": []})
    serve(api, arm(f"{SUB}/providers/Microsoft.Web/sites"), body={"value": []})
    serve(api, arm(f"{SUB}/providers/Microsoft.Security/pricings"), "arm/pricings.json")
    serve(
        api,
        arm(f"{SUB}/providers/Microsoft.Insights/diagnosticSettings"),
        "arm/diagnostics_exported.json",
    )
    infra.serve_network(api)
    infra.serve_compute(api)
    ops.serve_defender(api)
    jobs = {"value": recording("arm/backup_jobs_page1.json")["value"]}  # one page
    serve(api, arm(f"{ops.VAULT}/backupJobs"), body=jobs)
    serve(
        api, arm(f"{SUB}/providers/Microsoft.OperationalInsights/workspaces"), "arm/workspaces.json"
    )
    ops.serve_resource_logs(api)
    ops.summarize(api, status_code=200, json=recording("arm/policy_summary.json"))
    serve(
        api,
        arm(f"{SUB}/providers/Microsoft.Insights/activityLogAlerts"),
        "arm/activity_log_alerts.json",
    )
    governance.serve_pim(api)
    governance.serve_reviews(api)
    serve(api, graph("/policies/authorizationPolicy"), "graph/authorization_policy.json")
    entra.serve_ca(api)
    entra.serve_roles(api)
    serve(api, graph("/applications"), "graph/applications.json")
    serve(
        api,
        graph("/reports/authenticationMethods/userRegistrationDetails"),
        "graph/error_non_premium.json",
        status=403,
    )
    leavers.serve_leavers(api)
    app_protection.serve_policies(api)  # its own $select of devices and users, before the others
    throttled = httpx.Response(
        429, json=recording("graph/error_throttled.json"), headers={"Retry-After": "1"}
    )
    devices = httpx.Response(200, json=recording("graph/managed_devices.json"))
    api.get(graph("/deviceManagement/managedDevices")).mock(side_effect=[throttled, devices])
    entra.serve_users(api)
    intune.serve_settings(api, True)
    intune.serve_protection(api)
    intune.serve_compliance_policies(api)
    intune.serve_detected_apps(api)
    users_page2 = serve(
        api, graph("/users"), "graph/users_page2.json", **{"$skiptoken": "RFNwdAIAAQAAAB"}
    )
    users_page1 = serve(api, graph("/users"), "graph/users_page1.json", **{"$top": "999"})
    return {"users_page1": users_page1, "users_page2": users_page2}


def test_one_tenant_one_subscription(api: respx.MockRouter, store: EvidenceStore) -> None:
    routes = serve_estate(api)
    settings = AzureSettings(
        tenants=[AzureTenant(tenant_id=TENANT, subscriptions=[SUBSCRIPTION])],
        entra=EntraPolicy(break_glass_accounts=[entra.BREAK_GLASS]),
    )
    sleeps: list[float] = []
    accounts = [
        account
        for provider in ("azure", "entra", "intune")
        for account in resolve_accounts(
            settings,
            provider,
            credential_factory=lambda t: FakeCredential(),
            clock=lambda: NOW,
            sleep=sleeps.append,
        )
    ]
    reg = registry()
    checks = [c for c in reg.checks.values() if c.provider in ("azure", "entra", "intune")]
    result = Runner(reg, store, concurrency=4, clock=lambda: NOW).run(checks, accounts)

    by_check = {r.check_id: r for r in result.records}
    assert len(result.records) == len(checks) == 49
    assert {r.target_key for r in result.records} == {
        f"azure:{SUBSCRIPTION}",
        f"entra:{TENANT}",
        f"intune:{TENANT}",
    }
    assert result.outcome == "partial"
    errors = {r.check_id: r.error for r in result.records if r.status == "error"}
    premium = (
        "tenant has no Microsoft Entra ID P1/P2 licence: sign-in activity and authentication "
        "reports are unavailable (Authentication_RequestFromNonPremiumTenantOrB2CTenant on "
        "GET /v1.0/reports/authenticationMethods/userRegistrationDetails)"
    )
    malformed = (
        f"malformed answer to GET {SUB}/providers/Microsoft.KeyVault/vaults: "
        "'value' is not a list of objects"
    )
    assert errors == {
        "entra.users.mfa_registered": premium,
        "entra.admins.mfa_registered": premium,
        "azure.keyvault.soft_delete_enabled": malformed,
        "azure.keyvault.purge_protection_enabled": malformed,
    }
    statuses = {r.check_id: r.status for r in result.records if r.status != "error"}
    assert statuses["azure.storage.secure_transfer_required"] == "fail"
    assert statuses["azure.sql.auditing_enabled"] == "not_applicable"  # no servers: 0 resources
    assert statuses["azure.monitor.activity_log_exported"] == "pass"
    assert statuses["azure.defender.vulnerabilities_within_sla"] == "fail"
    assert statuses["azure.backup.jobs_succeeded"] == "pass"  # vm-host's newest job completed
    assert statuses["azure.policy.assignments_compliant"] == "fail"
    assert statuses["entra.conditional_access.mfa_all_users"] == "pass"
    assert statuses["entra.pim.privileged_roles_eligible"] == "fail"  # alice is permanent
    assert statuses["entra.apps.user_consent_restricted"] == "fail"  # the legacy default
    assert statuses["entra.roles.global_admin_count"] == "fail"  # five, one group expanded
    assert statuses["intune.devices.compliant"] == "fail"
    assert statuses["intune.devices.leavers_returned"] == "fail"  # erin left in April
    assert statuses["intune.app_protection.data_contained"] == "fail"  # Android BYOD
    assert statuses["entra.conditional_access.managed_device_required"] == "fail"
    assert statuses["entra.conditional_access.terms_of_use_required"] == "fail"
    assert sleeps == [1.0]  # Intune throttled once
    guests = by_check["entra.guests.recent_sign_in"]
    assert {(f["resource"], f["passed"]) for f in guests.findings} == {
        (entra.GINA, True),
        (entra.OLAF, False),
        (entra.PIA, True),
    }
    assert {"EntraUsers", "EntraSignIns"} <= set(guests.observations)
    # one GET per URL per run: four checks read the users, each page was fetched once
    assert routes["users_page1"].call_count == 1 and routes["users_page2"].call_count == 1
    latest = {s.check_id: s.status for s in store.latest()}
    assert latest == {r.check_id: r.status for r in result.records}
