"""Entra ID: recorded Graph answers -> snapshots -> verdicts, and Graph's 403 answers."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import respx

from checks.entra import apps, conditional_access, roles, users
from checks.entra.models import (
    AppRegistrations,
    ConditionalAccess,
    DirectoryRoles,
    EntraSignIns,
    EntraUsers,
    MfaRegistrations,
    RoleMember,
)
from checks.testing import findings, verdicts
from collector.azure.errors import AzureApiError
from collector.collect import Target
from collector.settings import AzureSettings, EntraPolicy
from tests.azure.fakes import NOW, TENANT, azure_cache, collect, graph, recording, serve

ALICE, BOB, CAROL, DAVE = (f"{n}@example.com" for n in ("alice", "bob", "carol", "dave"))
GINA = "gina_partner.example#EXT#@example.onmicrosoft.com"
OLAF = "olaf_vendor.example#EXT#@example.onmicrosoft.com"
PIA = "pia_old.example#EXT#@example.onmicrosoft.com"


def serve_users(api: respx.MockRouter) -> None:
    """Users (any licence) and, in a sweep of their own, sign-in activity (Entra ID P1)."""
    serve(api, graph("/users"), "graph/users_page2.json", **{"$skiptoken": "RFNwdAIAAQAAAB"})
    serve(api, graph("/users"), "graph/users_page1.json", **{"$top": "999"})
    serve(api, graph("/users"), "graph/sign_ins_page2.json", **{"$skiptoken": "RFNwdAIAAQAAAC"})
    serve(api, graph("/users"), "graph/sign_ins_page1.json", **{"$top": "500"})


def entra(*kinds, settings=None):
    cache = azure_cache("entra", settings=settings)
    return [cache.get(kind, Target("entra", TENANT)) for kind in kinds]


def serve_roles(api: respx.MockRouter) -> None:
    serve(api, graph("/directoryRoles"), "graph/directory_roles.json")
    for n, name in ((1, "global"), (2, "security"), (3, "readers")):
        role = f"dddddddd-0000-4000-8000-00000000000{n}"
        serve(api, graph(f"/directoryRoles/{role}/members"), f"graph/role_members_{name}.json")
    tier0 = graph("/groups/gggggggg-0000-4000-8000-000000000001/transitiveMembers")
    serve(api, tier0, "graph/group_tier0_members_page2.json", **{"$skiptoken": "X2TIER0"})
    serve(api, tier0, "graph/group_tier0_members_page1.json", **{"$top": "999"})


def test_users_over_two_pages(api: respx.MockRouter) -> None:
    serve_users(api)
    snapshot, sign_ins = entra(EntraUsers, EntraSignIns)

    assert sign_ins.collected_at == NOW and sign_ins.inactive_days == 90
    assert [u.upn for u in snapshot.users] == [ALICE, BOB, CAROL, DAVE, GINA, OLAF, PIA]
    assert len(sign_ins.last_sign_in) == 7
    assert verdicts(users.inactive_disabled, snapshot, sign_ins) == {
        (ALICE, True),
        (BOB, False),  # last sign-in 2023-11-13
        (CAROL, True),  # never signed in, but created 10 days ago
    }  # dave is disabled; guests are judged by the guest check
    assert verdicts(users.guests_recent_sign_in, snapshot, sign_ins) == {
        (GINA, True),
        (OLAF, False),
        (PIA, True),  # disabled: no access left
    }
    assert findings(users.guests_recent_sign_in, snapshot, sign_ins)[1].message == (
        "guest, last sign-in 2023-06-01"
    )


def test_inactivity_window_is_configurable(api: respx.MockRouter) -> None:
    serve_users(api)
    settings = AzureSettings(entra=EntraPolicy(inactive_days=365))
    snapshots = entra(EntraUsers, EntraSignIns, settings=settings)
    assert (BOB, True) in verdicts(users.inactive_disabled, *snapshots)


def test_mfa_registration(api: respx.MockRouter) -> None:
    serve_users(api)
    serve(
        api,
        graph("/reports/authenticationMethods/userRegistrationDetails"),
        "graph/registration_details.json",
    )
    cache = azure_cache("entra")
    target = Target("entra", TENANT)
    registrations, people = cache.get(MfaRegistrations, target), cache.get(EntraUsers, target)

    assert verdicts(users.mfa_registered, registrations, people) == {
        (ALICE, True),
        (BOB, False),
        (CAROL, False),
    }
    assert verdicts(users.admins_mfa_registered, registrations) == {(ALICE, True), (CAROL, False)}


def test_sign_ins_paged_at_the_documented_cap(api: respx.MockRouter) -> None:
    """``$top=999`` with ``signInActivity`` is refused; page at 500 and follow nextLink."""
    serve_users(api)
    first = serve(api, graph("/users"), "graph/sign_ins_page1.json", **{"$top": "500"})
    (sign_ins,) = entra(EntraSignIns)
    query = first.calls[0].request.url.params
    assert (query["$top"], query["$select"]) == ("500", "id,signInActivity")
    assert "aaaaaaaa-0000-4000-8000-000000000007" in sign_ins.last_sign_in  # from page 2


def test_non_premium_tenant_errors_only_the_sign_in_checks(api: respx.MockRouter) -> None:
    """Without Entra ID P1 the user list still answers: checks that need no sign-in data
    (guests in privileged roles, MFA registration's user list) keep their verdicts."""
    serve(api, graph("/users"), "graph/users_page2.json", **{"$skiptoken": "RFNwdAIAAQAAAB"})
    serve(api, graph("/users"), "graph/users_page1.json", **{"$top": "999"})
    serve(api, graph("/users"), "graph/error_non_premium.json", status=403, **{"$top": "500"})
    serve_roles(api)
    cache = azure_cache("entra")
    target = Target("entra", TENANT)
    people, directory = cache.get(EntraUsers, target), cache.get(DirectoryRoles, target)
    assert (f"Security Administrator/{GINA}", False) in verdicts(
        roles.no_guest_privileged, directory, people
    )
    with pytest.raises(AzureApiError) as denied:
        cache.get(EntraSignIns, target)
    assert denied.value.cause == (
        "tenant has no Microsoft Entra ID P1/P2 licence: sign-in activity and authentication "
        "reports are unavailable (Authentication_RequestFromNonPremiumTenantOrB2CTenant on "
        "GET /v1.0/users)"
    )


def test_graph_403_names_the_missing_permission(api: respx.MockRouter) -> None:
    serve(api, graph("/applications"), "graph/error_forbidden.json", status=403)
    with pytest.raises(AzureApiError) as denied:
        collect(AppRegistrations, "entra")
    assert denied.value.cause == (
        "HTTP 403 Authorization_RequestDenied on GET /v1.0/applications: Insufficient "
        "privileges to complete the operation. (missing permission: graph:Application.Read.All)"
    )


def serve_ca(api: respx.MockRouter, defaults: bool = False) -> None:
    body = recording("graph/security_defaults_off.json") | {"isEnabled": defaults}
    serve(api, graph("/policies/identitySecurityDefaultsEnforcementPolicy"), body=body)
    serve(api, graph("/identity/conditionalAccess/policies"), "graph/ca_policies.json")


BREAK_GLASS = "bbbbbbbb-0000-4000-8000-000000000001"


def test_conditional_access_policies(api: respx.MockRouter) -> None:
    serve_ca(api)
    settings = AzureSettings(entra=EntraPolicy(break_glass_accounts=[BREAK_GLASS]))
    ca = collect(ConditionalAccess, "entra", settings=settings)

    assert verdicts(conditional_access.mfa_all_users, ca) == {(TENANT, True)}
    assert findings(conditional_access.mfa_all_users, ca)[0].message == (
        "MFA required by: Require MFA for all users"  # not the one that skips trusted locations
    )  # nor the one that excludes a group, a role, an app and guests
    # the legacy-authentication block is report-only, so it blocks nothing
    assert verdicts(conditional_access.legacy_auth_blocked, ca) == {(TENANT, False)}

    enforced = ca.model_copy(
        update={"policies": tuple(p.model_copy(update={"state": "enabled"}) for p in ca.policies)}
    )
    assert verdicts(conditional_access.legacy_auth_blocked, enforced) == {(TENANT, True)}
    nothing = ca.model_copy(update={"policies": ca.policies[3:]})  # MFA outside office only
    assert verdicts(conditional_access.mfa_all_users, nothing) == {(TENANT, False)}


def test_exclusions_beyond_break_glass_fail_and_are_named(api: respx.MockRouter) -> None:
    """With no break-glass account configured, the all-users MFA policy's excluded user is not
    allowed either; each exclusion is named (learn.microsoft.com: conditionalAccessUsers)."""
    serve_ca(api)
    ca = collect(ConditionalAccess, "entra")
    staff = next(p for p in ca.policies if p.name == "MFA for staff")
    assert staff.exclude_groups == ("eeeeeeee-0000-4000-8000-000000000009",)
    assert staff.exclude_guests and staff.exclude_applications
    (finding,) = findings(conditional_access.mfa_all_users, ca)
    assert not finding.passed
    assert finding.message == (
        "not MFA required for everyone: 'MFA for staff' excludes groups "
        "eeeeeeee-0000-4000-8000-000000000009; roles d29b2b05-8046-44ba-8758-1e26182fcf32; "
        "apps 00000003-0000-0ff1-ce00-000000000000; guests or external users / 'Require MFA "
        f"for all users' excludes users {BREAK_GLASS} (beyond the configured break-glass "
        "accounts)"
    )


def test_security_defaults_cover_both(api: respx.MockRouter) -> None:
    serve_ca(api, defaults=True)
    ca = collect(ConditionalAccess, "entra").model_copy(update={"policies": ()})
    assert verdicts(conditional_access.mfa_all_users, ca) == {(TENANT, True)}
    assert verdicts(conditional_access.legacy_auth_blocked, ca) == {(TENANT, True)}


def test_directory_roles(api: respx.MockRouter) -> None:
    """Global Administrator is held by alice and carol directly and by the role-assignable
    group "Tier0 admins", whose transitive members (two pages, a nested group) add bob, dave,
    the guest olaf and alice again: five distinct admins, not three."""
    serve_users(api)
    serve_roles(api)
    cache = azure_cache("entra")
    target = Target("entra", TENANT)
    directory, people = cache.get(DirectoryRoles, target), cache.get(EntraUsers, target)

    assert verdicts(roles.global_admin_count, directory) == {(TENANT, False)}
    assert findings(roles.global_admin_count, directory)[0].message == (
        "5 Global Administrator(s), expected 2 to 4"
    )
    assert verdicts(roles.no_guest_privileged, directory, people) == {
        (f"Global Administrator/{ALICE}", True),
        (f"Global Administrator/{CAROL}", True),
        (f"Global Administrator/{BOB}", True),
        (f"Global Administrator/{DAVE}", True),
        (f"Global Administrator/{OLAF}", False),
        (f"Security Administrator/{ALICE}", True),
        (f"Security Administrator/{GINA}", False),
    }  # the service principal is no guest; Directory Readers is not privileged
    messages = {
        f.resource: f.message for f in findings(roles.no_guest_privileged, directory, people)
    }
    assert messages[f"Global Administrator/{OLAF}"] == (
        "guest holds Global Administrator through group 'Tier0 admins'"
    )
    assert messages[f"Global Administrator/{ALICE}"] == "member holds Global Administrator"


@pytest.mark.parametrize(("count", "ok"), [(1, False), (2, True), (4, True), (5, False)])
def test_global_admin_bounds(api: respx.MockRouter, count: int, ok: bool) -> None:
    serve_roles(api)
    directory = collect(DirectoryRoles, "entra")
    admins = tuple(RoleMember(id=f"u{i}", kind="user", name=f"u{i}") for i in range(count))
    admins += (RoleMember(id="u0", kind="user", name="u0", via="a group"),)  # counted once
    role = directory.roles[0].model_copy(update={"members": admins})
    changed = directory.model_copy(update={"roles": (role, *directory.roles[1:])})
    assert verdicts(roles.global_admin_count, changed) == {(TENANT, ok)}


def test_app_client_secrets(api: respx.MockRouter) -> None:
    serve(api, graph("/applications"), "graph/applications.json")
    registrations = collect(AppRegistrations, "entra")

    assert verdicts(apps.client_secrets_valid, registrations) == {
        ("payroll-sync (b0000000-0000-4000-8000-000000000001)", True),  # 366 days over 29 Feb
        ("old-crm (b0000000-0000-4000-8000-000000000002)", False),  # expired secret left behind
        ("build-bot (b0000000-0000-4000-8000-000000000003)", False),  # two years
    }  # spa-frontend has no secret
    assert [f.message for f in findings(apps.client_secrets_valid, registrations)][1:] == [
        "secret c0000000-0000-4000-8000-000000000002 expired 2023-01-01",
        "secret c0000000-0000-4000-8000-000000000004 valid for 731 days",
    ]
    later = registrations.model_copy(update={"collected_at": NOW + timedelta(days=365)})
    assert ("payroll-sync (b0000000-0000-4000-8000-000000000001)", False) in verdicts(
        apps.client_secrets_valid, later
    )


def test_no_secret_values_in_the_snapshot(api: respx.MockRouter) -> None:
    serve(api, graph("/applications"), "graph/applications.json")
    dumped = collect(AppRegistrations, "entra").model_dump_json()
    assert '"Ab1"' not in dumped and "hint" not in dumped


def serve_device_policies(api: respx.MockRouter) -> None:
    """Two pages of conditionalAccessPolicy objects requiring devices (learn.microsoft.com
    "List policies", conditionalAccessGrantControls ``builtInControls`` compliantDevice /
    domainJoinedDevice), after security defaults that are on: they require no device."""
    body = recording("graph/security_defaults_off.json") | {"isEnabled": True}
    serve(api, graph("/policies/identitySecurityDefaultsEnforcementPolicy"), body=body)
    policies = graph("/identity/conditionalAccess/policies")
    serve(api, policies, "graph/ca_policies_devices_page2.json", **{"$skiptoken": "CADEVICES2"})
    api.get(policies).mock(
        return_value=httpx.Response(200, json=recording("graph/ca_policies_devices_page1.json"))
    )


CONTRACTORS = "eeeeeeee-0000-4000-8000-00000000000c"


def test_managed_device_required_names_what_a_policy_leaves_out(api: respx.MockRouter) -> None:
    """Report-only, "MFA or compliant device" (MFA alone lets a user in), a Windows-only and a
    disabled policy do not count; the one that does excludes a group beyond break-glass."""
    serve_device_policies(api)
    settings = AzureSettings(entra=EntraPolicy(break_glass_accounts=[BREAK_GLASS]))
    ca = collect(ConditionalAccess, "entra", settings=settings)
    assert len(ca.policies) == 7 and ca.security_defaults_enabled
    (finding,) = findings(conditional_access.managed_device_required, ca)
    assert (finding.passed, finding.message) == (
        False,
        "not managed device required for everyone: 'Managed device for staff' excludes groups "
        f"{CONTRACTORS} (beyond the configured break-glass accounts)",
    )
    allowed = ca.model_copy(update={"break_glass": (BREAK_GLASS, CONTRACTORS)})
    assert findings(conditional_access.managed_device_required, allowed)[0].message == (
        "managed device required by: Managed device for staff"
    )


def test_managed_device_and_mfa_together_count_when_enabled(api: respx.MockRouter) -> None:
    serve_device_policies(api)
    settings = AzureSettings(entra=EntraPolicy(break_glass_accounts=[BREAK_GLASS]))
    ca = collect(ConditionalAccess, "entra", settings=settings)
    both = next(p for p in ca.policies if p.name == "MFA and compliant device")
    assert (both.grant_operator, both.state) == ("AND", "disabled")
    enabled = ca.model_copy(update={"policies": (both.model_copy(update={"state": "enabled"}),)})
    assert verdicts(conditional_access.managed_device_required, enabled) == {(TENANT, True)}
    none = ca.model_copy(update={"policies": ca.policies[:2]})  # report-only, MFA or device
    assert findings(conditional_access.managed_device_required, none)[0].message == (
        "no enabled all-users policy: not managed device required"
    )


def test_managed_device_policies_unreadable_is_an_error(api: respx.MockRouter) -> None:
    serve(api, graph("/policies/identitySecurityDefaultsEnforcementPolicy"), body={})
    serve(
        api,
        graph("/identity/conditionalAccess/policies"),
        "graph/error_forbidden.json",
        status=403,
    )
    with pytest.raises(AzureApiError, match=r"missing permission: graph:Policy.Read.All"):
        collect(ConditionalAccess, "entra")


def test_terms_of_use_required_on_every_grant_path(api: respx.MockRouter) -> None:
    """'Accept terms of use' (termsOfUse alone) counts; 'MFA or terms of use' does not, since
    MFA alone lets a user in; security defaults ask for no terms of use."""
    serve_device_policies(api)
    ca = collect(ConditionalAccess, "entra")
    accept = next(p for p in ca.policies if p.name == "Accept terms of use")
    assert accept.terms_of_use == ("7e0a1b2c-0000-4000-8000-0000000000a1",)
    (finding,) = findings(conditional_access.terms_of_use_required, ca)
    assert (finding.passed, finding.message) == (
        False,
        "not terms of use acceptance required for everyone: 'Accept terms of use' excludes "
        f"users {BREAK_GLASS} (beyond the configured break-glass accounts)",
    )
    allowed = ca.model_copy(update={"break_glass": (BREAK_GLASS,)})
    assert findings(conditional_access.terms_of_use_required, allowed)[0].message == (
        "terms of use acceptance required by: Accept terms of use"
    )
    either = ca.model_copy(update={"policies": ca.policies[-1:], "break_glass": (BREAK_GLASS,)})
    assert verdicts(conditional_access.terms_of_use_required, either) == {(TENANT, False)}
