"""Identity governance on Entra: PIM (eligible, not permanent), access reviews of privileged
roles and guests, phishing-resistant MFA for admins, user consent. Recorded Graph answers (see
SOURCES.md) through the real client -> snapshots -> verdicts; unknown answers are errors."""

from __future__ import annotations

import pytest
import respx

from checks.entra import conditional_access, governance
from checks.entra.governance import AccessReviews, ConsentPolicy, PimAssignments
from checks.entra.models import ConditionalAccess, EntraUsers
from checks.testing import findings, verdicts
from collector.azure.errors import AzureApiError, MalformedResponse
from collector.settings import AzureSettings, EntraPolicy
from tests.azure.fakes import TENANT, collect, graph, recording, serve
from tests.azure.test_azure_entra import BREAK_GLASS, entra, serve_ca, serve_users

SETTINGS = AzureSettings(entra=EntraPolicy(break_glass_accounts=[BREAK_GLASS]))
REVIEWS = "/identityGovernance/accessReviews/definitions"


def serve_pim(api: respx.MockRouter) -> None:
    schedules = graph("/roleManagement/directory/roleAssignmentSchedules")
    serve(api, schedules, "graph/pim_assignments_page2.json", **{"$skiptoken": "UElNMg"})
    serve(api, schedules, "graph/pim_assignments_page1.json", **{"$expand": "principal"})
    serve(
        api,
        graph("/roleManagement/directory/roleEligibilitySchedules"),
        "graph/pim_eligibilities.json",
        **{"$expand": "principal"},
    )


def serve_reviews(api: respx.MockRouter) -> None:
    serve(api, graph(REVIEWS), "graph/access_reviews_page2.json", **{"$skip": "2"})
    serve(api, graph(REVIEWS), "graph/access_reviews_page1.json")
    for n in (1, 2, 3):
        definition = f"rv00000{n}-0000-4000-8000-00000000000{n}"
        serve(
            api,
            graph(f"{REVIEWS}/{definition}/instances"),
            f"graph/access_review_instances_{n}.json",
        )


def test_privileged_roles_held_just_in_time(api: respx.MockRouter) -> None:
    serve_pim(api)
    pim = collect(PimAssignments, "entra", settings=SETTINGS)
    assert verdicts(governance.privileged_roles_eligible, pim) == {
        ("Global Administrator/alice@example.com", False),  # permanent
        ("Global Administrator/breakglass1@example.onmicrosoft.com", True),  # configured
        ("Security Administrator/bob@example.com", True),  # activated for a few hours
        ("Exchange Administrator/carol@example.com", True),  # active until a date
        ("Privileged Role Administrator/automation-runbook", False),  # page 2: a workload
        ("Security Administrator/bob@example.com", True),  # eligible
        ("Global Administrator/dave@example.com", True),  # eligible
        ("User Administrator/tier1-admins", True),  # a group, eligible
    }  # Directory Readers (page 2) is not a privileged role
    messages = [f.message for f in findings(governance.privileged_roles_eligible, pim)]
    assert messages[0] == "user permanently active assignment"
    assert messages[4] == "servicePrincipal permanently active assignment"


def test_pim_without_licence_or_expiration_is_an_error(api: respx.MockRouter) -> None:
    schedules = graph("/roleManagement/directory/roleAssignmentSchedules")
    serve(api, schedules, "graph/error_forbidden.json", status=403)
    with pytest.raises(AzureApiError) as denied:
        collect(PimAssignments, "entra")
    assert "RoleManagement.Read.Directory" in denied.value.cause
    page = recording("graph/pim_eligibilities.json")
    page["value"][0]["scheduleInfo"]["expiration"] = None
    api.routes.clear()
    serve(api, schedules, body={"value": []})
    serve(api, graph("/roleManagement/directory/roleEligibilitySchedules"), body=page)
    with pytest.raises(MalformedResponse, match="no known expiration type"):
        collect(PimAssignments, "entra")


def test_access_reviews_of_privileged_roles_and_guests(api: respx.MockRouter) -> None:
    serve_pim(api)
    serve_reviews(api)
    serve_users(api)
    reviews, pim, users = entra(AccessReviews, PimAssignments, EntraUsers, settings=SETTINGS)
    assert verdicts(governance.privileged_and_guests, reviews, pim, users) == {
        (f"{TENANT}/Global Administrator", True),  # quarterly, completed in April, auto-applied
        (f"{TENANT}/Security Administrator", False),  # completed, decisions not applied
        (f"{TENANT}/Exchange Administrator", False),  # no review
        (f"{TENANT}/Privileged Role Administrator", False),
        (f"{TENANT}/User Administrator", False),
        (f"{TENANT}/guests", False),  # last completed over a year ago, current one open
    }
    messages = {
        f.resource.rsplit("/", 1)[1]: f.message
        for f in findings(governance.privileged_and_guests, reviews, pim, users)
    }
    assert messages["Global Administrator"] == (
        "'Global admins quarterly' completed 2024-04-19, decisions applied"
    )
    assert messages["Security Administrator"] == (
        "'Security roles' completed but does not apply its decisions"
    )
    assert messages["guests"] == (
        "'Guests in Microsoft 365 groups' has no instance completed in the period"
    )
    assert messages["Exchange Administrator"] == "no access review covers Exchange Administrator"


def test_access_reviews_forbidden_is_an_error(api: respx.MockRouter) -> None:
    serve(api, graph(REVIEWS), "graph/error_forbidden.json", status=403)
    with pytest.raises(AzureApiError) as denied:
        collect(AccessReviews, "entra")
    assert denied.value.status == 403 and "AccessReview.Read.All" in denied.value.cause


def test_phishing_resistant_mfa_for_admins(api: respx.MockRouter) -> None:
    serve_ca(api, defaults=True)  # security defaults accept any method: they do not count
    ca = collect(ConditionalAccess, "entra", settings=SETTINGS)
    judged = dict(verdicts(conditional_access.phishing_resistant_admins, ca))
    assert len(judged) == 15  # every privileged role
    assert {role.split("/", 1)[1] for role, ok in judged.items() if ok} == {
        "Global Administrator",
        "Privileged Role Administrator",
        "Security Administrator",
        "Conditional Access Administrator",
        "Privileged Authentication Administrator",
    }
    messages = {
        f.resource.split("/", 1)[1]: f.message
        for f in findings(conditional_access.phishing_resistant_admins, ca)
    }
    assert messages["User Administrator"] == (  # a custom keys-only strength, but an exclusion
        "phishing-resistant MFA not required for everyone: 'Identity admins: keys only' "
        "excludes users aaaaaaaa-0000-4000-8000-000000000004"
    )
    assert messages["Exchange Administrator"] == (  # any MFA is not phishing-resistant
        "no enabled policy requires phishing-resistant MFA for this role"
    )
    assert messages["Helpdesk Administrator"] == (  # report-only
        "no enabled policy requires phishing-resistant MFA for this role"
    )


@pytest.mark.parametrize(
    ("assigned", "passed", "message"),
    [
        (None, False, "users may consent to apps under: microsoft-user-default-legacy"),
        (
            ["ManagePermissionGrantsForSelf.microsoft-user-default-low"],
            True,
            "users may consent only to low-risk permissions of verified publishers",
        ),
        (
            [
                "ManagePermissionGrantsForOwnedResource.microsoft-dynamically-managed-permissions-for-team"
            ],
            True,
            "user consent to apps is off",
        ),
        (
            ["ManagePermissionGrantsForSelf.contoso-marketing-apps"],
            False,
            "users may consent to apps under: contoso-marketing-apps",
        ),
    ],
)
def test_user_consent_restricted(
    api: respx.MockRouter, assigned: list[str] | None, passed: bool, message: str
) -> None:
    body = recording("graph/authorization_policy.json")
    if assigned is not None:
        body["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned"] = assigned
    serve(api, graph("/policies/authorizationPolicy"), body=body)
    consent = collect(ConsentPolicy, "entra")
    assert [
        (f.resource, f.passed, f.message)
        for f in findings(governance.user_consent_restricted, consent)
    ] == [(TENANT, passed, message)]


def test_consent_policy_without_the_list_is_an_error(api: respx.MockRouter) -> None:
    body = recording("graph/authorization_policy.json")
    del body["defaultUserRolePermissions"]["permissionGrantPoliciesAssigned"]
    serve(api, graph("/policies/authorizationPolicy"), body=body)
    with pytest.raises(MalformedResponse, match="permissionGrantPoliciesAssigned"):
        collect(ConsentPolicy, "entra")
