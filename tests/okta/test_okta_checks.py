"""Okta checks on a recorded org through the real httpx client: Link-header paging, factors
one call per user (memoised), policies and rules, admin assignees paged by ``_links``."""

from __future__ import annotations

import pytest
import respx

from checks.okta import policies as policy_checks
from checks.okta import users as user_checks
from checks.okta.models import (
    OktaAdmins,
    OktaFactors,
    OktaMfaPolicies,
    OktaPasswordPolicies,
    OktaUsers,
)
from checks.testing import findings, verdicts
from collector.collect import Target
from collector.okta.accounts import resolve_accounts
from collector.snapshots import SnapshotCache
from tests.okta.wire import ENVIRON, NOW, ORG, REGISTRY, SETTINGS, serve_org

INPUTS = {
    user_checks.mfa_enrolled: (OktaUsers, OktaFactors),
    user_checks.inactive_deactivated: (OktaUsers,),
    user_checks.admins_listed: (OktaAdmins, OktaFactors),
    policy_checks.password_strength: (OktaPasswordPolicies,),
    policy_checks.mfa_required: (OktaMfaPolicies,),
}


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


def org_cache(settings=SETTINGS) -> SnapshotCache:
    (account,) = resolve_accounts(settings, environ=ENVIRON, clock=lambda: NOW, sleep=[].append)
    assert account.error is None and account.make_scope is not None
    return SnapshotCache(REGISTRY.collectors, account.make_scope)


def judge(check, cache: SnapshotCache) -> set[tuple[str, bool]]:
    return verdicts(check, *(cache.get(kind, Target("okta", ORG)) for kind in INPUTS[check]))


EXPECTED = {
    user_checks.mfa_enrolled: {
        ("ann@example.com", True),
        ("bob@example.com", False),  # SMS pending activation only
        ("carol@example.com", True),  # PASSWORD_EXPIRED can still sign in
        ("erin@example.com", False),  # security question and email only: not MFA
    },
    user_checks.inactive_deactivated: {
        ("ann@example.com", True),
        ("bob@example.com", False),  # last sign-in January
        ("carol@example.com", True),
        ("erin@example.com", True),  # never, but activated in May
    },
    user_checks.admins_listed: {
        ("ann@example.com", True),
        ("bob@example.com", False),  # no active factor
        ("frank@example.com", True),  # suspended: cannot sign in
    },
    policy_checks.password_strength: {
        ("Strong passwords", True),
        ("Default Policy", False),  # the inactive policy is not judged
    },
    # the Contractors session policy allows one factor, so apps decide: the dashboard's
    # catch-all requires 2FA, the legacy apps' catch-all allows one factor; the policy with
    # no app mapped is not judged
    policy_checks.mfa_required: {("Okta Dashboard", True), ("Legacy apps", False)},
}


@pytest.mark.parametrize("check", EXPECTED, ids=lambda c: c.__name__)
def test_checks_on_recorded_org(api, check):
    serve_org(api)
    assert judge(check, org_cache()) == EXPECTED[check]


def test_users_paged_by_link_header_and_factors_fetched_once(api):
    routes = serve_org(api)
    cache = org_cache()
    for check in (user_checks.mfa_enrolled, user_checks.admins_listed):
        judge(check, cache)
    users = cache.get(OktaUsers, Target("okta", ORG))
    assert [u.login for u in users.users][-1] == "frank@example.com" and len(users.users) == 6
    assert routes["users_page2"].call_count == 1
    page1 = routes["users_page1"].calls[-1].request
    assert page1.url.params["limit"] == "200"
    assert page1.headers["Authorization"] == "SSWS 00example-api-token"
    # one factor call per user who can sign in, shared by both checks; none for STAGED dave
    assert [routes[f"factors_{n}"].call_count for n in ("ann", "bob", "carol", "erin")] == [1] * 4
    assert routes["assignees"].call_count == 1


def test_admin_roles_and_messages(api):
    serve_org(api)
    cache = org_cache()
    admins = cache.get(OktaAdmins, Target("okta", ORG))
    assert {a.login: a.roles for a in admins.admins} == {
        "ann@example.com": ("Super Administrator",),
        "bob@example.com": ("Organization Administrator", "Read-only Administrator"),
        "frank@example.com": ("Help Desk Administrator",),
    }
    messages = {
        f.resource: f.message
        for f in findings(
            user_checks.admins_listed, admins, cache.get(OktaFactors, Target("okta", ORG))
        )
    }
    assert messages["frank@example.com"] == (
        "Help Desk Administrator; account SUSPENDED, cannot sign in"
    )


def test_single_factor_catch_all_fails_and_names_the_apps(api):
    routes = serve_org(api, access_rules="rules_dashboard_1fa")
    cache = org_cache()
    policies = cache.get(OktaMfaPolicies, Target("okta", ORG))
    messages = {
        f.resource: (f.passed, f.message) for f in findings(policy_checks.mfa_required, policies)
    }
    sessions = (
        "global session: Contractors: rule 'Contractors anywhere' allows a single factor; "
        "Default Policy: rule 'Office network' allows a single factor (network)"
    )
    assert messages == {
        "Okta Dashboard": (
            False,
            f"rule 'Catch-all Rule' allows a single factor, for 1 app: 0oa1dashboardEXAMPLE; "
            f"{sessions}",
        ),
        "Legacy apps": (
            False,
            "rule 'Catch-all Rule' allows a single factor, for 2 apps: 0oa2wikiEXAMPLE, "
            f"0oa3expensesEXAMPLE; {sessions}",
        ),
    }
    assert routes["mappings_legacy"].call_count == 1  # and its second page, by Link header


def test_session_policies_all_requiring_mfa_pass_for_the_org(api):
    """A group's session policy is judged too: with Contractors' and the default policy's
    rules all requiring MFA, every session needs a second factor whatever the apps allow."""
    serve_org(
        api,
        contractors_rules="rules_contractors_mfa",
        default_rules="rules_default_sign_on_mfa",
    )
    policies = org_cache().get(OktaMfaPolicies, Target("okta", ORG))
    (finding,) = findings(policy_checks.mfa_required, policies)
    assert (finding.resource, finding.passed) == (ORG, True)
    assert finding.message == (
        "every global session policy requires MFA ('Contractors', 'Default Policy')"
    )


def test_one_session_policy_for_a_group_allowing_one_factor_is_not_covered_by_default(api):
    """The default policy requiring MFA does not cover the Contractors group's own policy."""
    serve_org(api, default_rules="rules_default_sign_on_mfa")
    verdict = judge(policy_checks.mfa_required, org_cache())
    assert ("Legacy apps", False) in verdict and (ORG, True) not in verdict


def test_factor_strength_threshold_is_configurable(api):
    serve_org(api)
    strict = SETTINGS.model_copy(update={"mfa_min_strength": "phishing_resistant"})
    cache = org_cache(strict)
    assert judge(user_checks.mfa_enrolled, cache) == {
        ("ann@example.com", False),  # push and TOTP: strong, not phishing-resistant
        ("bob@example.com", False),
        ("carol@example.com", True),  # WebAuthn
        ("erin@example.com", False),
    }
    messages = {
        f.resource: f.message
        for f in findings(
            user_checks.mfa_enrolled,
            cache.get(OktaUsers, Target("okta", ORG)),
            cache.get(OktaFactors, Target("okta", ORG)),
        )
    }
    assert messages["ann@example.com"] == (
        "only factors weaker than phishing_resistant: push:OKTA, token:software:totp:GOOGLE"
    )


def test_configured_thresholds(api):
    serve_org(api)
    strict = SETTINGS.model_copy(update={"password_min_length": 16, "inactive_days": 10})
    cache = org_cache(strict)
    assert judge(policy_checks.password_strength, cache) == {
        ("Strong passwords", False),
        ("Default Policy", False),
    }
    assert {r for r, ok in judge(user_checks.inactive_deactivated, cache) if not ok} == {
        "bob@example.com",
        "carol@example.com",  # last sign-in 10 May
        "erin@example.com",  # never signed in, activated 21 May
    }
