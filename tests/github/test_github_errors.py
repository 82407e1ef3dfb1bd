"""GitHub failures through the real client: rate limits waited out, a 403 naming the missing
permission, a feature the plan lacks (404) as ERROR not FAIL, hidden fields, rejected
credentials; GitHub App installation tokens; a GitHub Enterprise Server base URL."""

from __future__ import annotations

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from checks.github.models import GithubBranchRules, GithubMembers
from collector.collect import Target
from collector.github.accounts import resolve_accounts
from collector.http import ApiError
from collector.runner import Runner
from collector.snapshots import SnapshotCache
from storage import EvidenceStore
from tests.github.wire import (
    ENVIRON,
    EPOCH,
    NOW,
    ORG,
    REGISTRY,
    SETTINGS,
    answer,
    first_then,
    serve_org,
)
from tests.http.keys import rsa_private_pem

TARGET = Target("github", ORG)


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def store(sqlite_url):
    opened = EvidenceStore.open(sqlite_url)
    yield opened
    opened.close()


def accounts(settings=SETTINGS, sleeps=None, environ=ENVIRON):
    return resolve_accounts(
        settings,
        environ=environ,
        clock=lambda: NOW,
        sleep=(sleeps if sleeps is not None else []).append,
        epoch=lambda: EPOCH,
    )


def records(store, *ids, settings=SETTINGS):
    result = Runner(REGISTRY, store, concurrency=2).run(
        REGISTRY.select(ids=ids), accounts(settings)
    )
    return {r.check_id: r for r in result.records}


def test_primary_rate_limit_waits_until_reset_then_reads(api):
    sleeps: list[float] = []
    serve_org(api, {"/orgs/acme/members": first_then("rate_limited_primary", "members_page1")})
    (account,) = accounts(sleeps=sleeps)
    members = SnapshotCache(REGISTRY.collectors, account.make_scope).get(GithubMembers, TARGET)
    assert len(members.members) == 4
    assert sleeps == [7.0]  # x-ratelimit-reset minus the answer's Date


def test_secondary_rate_limit_waits_retry_after(api):
    sleeps: list[float] = []
    serve_org(api, {"/orgs/acme": first_then("rate_limited_secondary", "org")})
    (account,) = accounts(sleeps=sleeps)
    assert account.error is None and sleeps == [3.0]


def test_rate_limit_that_never_lifts_is_an_error_with_its_cause(api, store):
    sleeps: list[float] = []
    serve_org(api, {"/orgs/acme/members": "rate_limited_primary"})
    (account,) = accounts(sleeps=sleeps)
    with pytest.raises(ApiError) as caught:
        SnapshotCache(REGISTRY.collectors, account.make_scope).get(GithubMembers, TARGET)
    assert len(sleeps) == SETTINGS.max_attempts - 1
    # a throttled 403 is not a missing permission: the cause does not claim one
    assert str(caught.value) == (
        "HTTP 403 Forbidden on GET /orgs/acme/members: API rate limit exceeded for installation "
        "ID 4242. (after 5 attempts)"
    )


def test_forbidden_is_error_naming_the_missing_permission(api, store):
    serve_org(api, {"/orgs/acme/dependabot/alerts": "error_forbidden"})
    record = records(store, "github.dependabot.alerts_within_deadline")[
        "github.dependabot.alerts_within_deadline"
    ]
    assert record.status == "error"
    assert record.error == (
        "HTTP 403 Forbidden on GET /orgs/acme/dependabot/alerts: Resource not accessible by "
        "integration (missing permission: Dependabot alerts (repository): read)"
    )


def test_feature_not_on_the_plan_is_error_not_fail(api, store):
    serve_org(
        api,
        {
            "/orgs/acme/code-scanning/alerts": "code_scanning_not_found",
            "/orgs/acme/audit-log": "audit_log_not_found",
        },
    )
    got = records(store, "github.code_scanning.alerts_within_deadline", "github.members.inactive")
    scanning = got["github.code_scanning.alerts_within_deadline"]
    assert scanning.status == "error" and scanning.findings == []
    assert scanning.error == (
        "FeatureUnavailable: code scanning not available for GitHub organization acme: not on "
        "its plan or not enabled (HTTP 404 on GET /orgs/acme/code-scanning/alerts: Not Found)"
    )
    assert got["github.members.inactive"].status == "error"
    assert "the audit log API not available" in got["github.members.inactive"].error


def test_settings_hidden_from_a_non_owner_are_errors_not_passes(api, store):
    serve_org(api, {"/orgs/acme": "org_as_member", "/orgs/acme/repos": "repos_no_admin"})
    got = records(
        store,
        "github.org.two_factor_required",
        "github.repos.secret_scanning",
        "github.repos.dependabot_security_updates",
    )
    assert {r.status for r in got.values()} == {"error"}
    assert "Dependabot security updates for acme/api" in (
        got["github.repos.dependabot_security_updates"].error
    )
    assert "two_factor_requirement_enabled" in got["github.org.two_factor_required"].error
    assert "secret scanning for acme/api" in got["github.repos.secret_scanning"].error


def test_branch_rules_denied_are_errors_for_last_push_approval(api, store):
    serve_org(api, {"/repos/acme/api/branches/main/protection": "error_forbidden"})
    record = records(store, "github.repos.last_push_approval")["github.repos.last_push_approval"]
    assert record.status == "error" and record.findings == []
    assert "(missing permission: Administration (repository): read)" in record.error


def test_environments_denied_or_without_the_bypass_flag_are_errors(api, store):
    serve_org(api, {"/repos/acme/api/environments": "error_forbidden"})
    check = "github.environments.production_protected"
    record = records(store, check)[check]
    assert record.status == "error" and record.findings == []
    assert record.error.endswith("(missing permission: Actions (repository): read)")


def test_production_environment_without_the_bypass_flag_is_an_error(api, store):
    recorded = answer("environments_api").json()
    for env in recorded["environments"]:
        del env["can_admins_bypass"]  # an answer that leaves it out: unknown, not a pass
    served = httpx.Response(200, json=recorded)
    serve_org(api, {"/repos/acme/api/environments": lambda _: served})
    check = "github.environments.production_protected"
    record = records(store, check)[check]
    assert record.status == "error"
    assert "admins may bypass environment production of acme/api" in record.error


def test_private_repository_on_a_plan_without_protection_fails_saying_why(api):
    serve_org(api, {"/repos/acme/infra/branches/main/protection": "protection_upgrade"})
    (account,) = accounts()
    rules = SnapshotCache(REGISTRY.collectors, account.make_scope).get(GithubBranchRules, TARGET)
    (infra,) = [b for b in rules.branches if b.repo == "acme/infra"]
    assert infra.rules == () and infra.unavailable == (
        "branch protection unavailable on this plan: Upgrade to GitHub Pro or make this "
        "repository public to enable this feature."
    )


def test_an_empty_repository_has_no_branch_to_judge(api):
    serve_org(api, {"/repos/acme/web/branches/main/protection": "protection_branch_not_found"})
    (account,) = accounts()
    rules = SnapshotCache(REGISTRY.collectors, account.make_scope).get(GithubBranchRules, TARGET)
    assert [b.repo for b in rules.branches] == ["acme/api", "acme/infra"]


def test_rejected_or_missing_token_is_an_error_for_that_organization_only(api):
    api.get("https://api.github.com/orgs/acme").mock(return_value=answer("bad_credentials"))
    (account,) = accounts()
    assert account.make_scope is None and account.error == (
        "cannot access GitHub organization acme: HTTP 401 Unauthorized on GET /orgs/acme: "
        "Bad credentials"
    )
    (account,) = accounts(environ={})
    assert account.error == (
        "cannot access GitHub organization acme: GithubAuthError: environment variable "
        "GITHUB_TEST_TOKEN is not set"
    )


def test_github_app_exchanges_a_signed_jwt_for_an_installation_token(api, tmp_path):
    key = tmp_path / "app.pem"
    key.write_text(rsa_private_pem())
    settings = SETTINGS.model_copy(
        update={"auth": "app", "app_id": "123456", "private_key_file": key}
    )
    route = serve_org(
        api,
        {
            "/orgs/acme/installation": "installation",
            "/app/installations/4242/access_tokens": "access_token",
        },
    )
    (account,) = accounts(settings)
    cache = SnapshotCache(REGISTRY.collectors, account.make_scope)
    cache.get(GithubMembers, TARGET)
    calls = [
        (c.request.method, c.request.url.path, c.request.headers["Authorization"])
        for c in route.calls
    ]
    assert [c[:2] for c in calls[:3]] == [
        ("GET", "/orgs/acme/installation"),
        ("POST", "/app/installations/4242/access_tokens"),
        ("GET", "/orgs/acme"),
    ]
    public = load_pem_private_key(rsa_private_pem().encode(), None).public_key()
    claims = jwt.decode(
        calls[0][2].removeprefix("Bearer "),
        public,
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False},  # signed at the test's clock
    )
    assert claims["iss"] == "123456" and claims["exp"] - claims["iat"] <= 600
    # every API call after the exchange uses the one installation token (valid until 01:00)
    assert {c[2] for c in calls[2:]} == {"Bearer ghs_exampleInstallationToken0000000000"}
    assert sum(c[1].endswith("access_tokens") for c in calls) == 1


def test_enterprise_server_base_url(api):
    base = "https://ghe.example.com/api/v3"
    route = serve_org(api, base=base)
    (account,) = accounts(SETTINGS.model_copy(update={"api_url": base}))
    members = SnapshotCache(REGISTRY.collectors, account.make_scope).get(GithubMembers, TARGET)
    assert len(members.members) == 4
    assert {c.request.url.host for c in route.calls} == {"ghe.example.com"}
    assert str(route.calls[0].request.url).startswith("https://ghe.example.com/api/v3/orgs/acme")
