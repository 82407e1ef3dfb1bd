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
        ("erin@example.com", False),
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
    policy_checks.mfa_required: {(ORG, True)},  # the dashboard's catch-all rule requires 2FA
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


def test_single_factor_catch_all_fails_mfa_required(api):
    serve_org(api, access_rules="rules_dashboard_1fa")
    cache = org_cache()
    (finding,) = findings(
        policy_checks.mfa_required, cache.get(OktaMfaPolicies, Target("okta", ORG))
    )
    assert (finding.resource, finding.passed) == (ORG, False)
    assert finding.message == (
        "no active policy requires MFA for all users (Default Policy: rule 'Office network' "
        "allows a single factor (network); Okta Dashboard: rule 'Catch-all Rule' allows a "
        "single factor)"
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
