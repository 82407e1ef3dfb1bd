"""GitHub checks on a recorded organisation through the real httpx client: Link-header paging,
branch protection and rulesets, secret scanning, deploy keys, collaborators, alerts."""

from __future__ import annotations

import pytest
import respx

from checks.github import alerts, environments, org, repos
from checks.github.models import (
    GithubBranchRules,
    GithubCodeScanningAlerts,
    GithubCollaborators,
    GithubDependabotAlerts,
    GithubDeployKeys,
    GithubEnvironments,
    GithubMemberActivity,
    GithubMembers,
    GithubOrg,
    GithubRepos,
)
from checks.testing import findings, verdicts
from collector.collect import Target
from collector.github.accounts import resolve_accounts
from collector.snapshots import SnapshotCache
from tests.github.wire import ENVIRON, EPOCH, NOW, ORG, REGISTRY, SETTINGS, serve_org

TARGET = Target("github", ORG)
INPUTS = {
    org.two_factor_required: GithubOrg,
    org.owner_count: GithubMembers,
    org.base_permission_read: GithubOrg,
    org.members_active: GithubMemberActivity,
    repos.default_branch_reviewed: GithubBranchRules,
    repos.last_push_approval: GithubBranchRules,
    repos.status_checks_required: GithubBranchRules,
    repos.secret_scanning: GithubRepos,
    repos.dependabot_security_updates: GithubRepos,
    repos.push_protection: GithubRepos,
    repos.deploy_keys_read_only: GithubDeployKeys,
    repos.outside_collaborators_read_only: GithubCollaborators,
    alerts.dependabot_within_deadline: GithubDependabotAlerts,
    alerts.code_scanning_within_deadline: GithubCodeScanningAlerts,
    environments.production_protected: GithubEnvironments,
}


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


def org_cache(settings=SETTINGS) -> SnapshotCache:
    (account,) = resolve_accounts(
        settings, environ=ENVIRON, clock=lambda: NOW, sleep=[].append, epoch=lambda: EPOCH
    )
    assert account.error is None and account.make_scope is not None, account.error
    return SnapshotCache(REGISTRY.collectors, account.make_scope)


EXPECTED = {
    org.two_factor_required: {("acme", True)},
    org.owner_count: {("acme", False)},  # one owner: nobody to recover the account
    org.base_permission_read: {("acme", False)},  # members get write everywhere
    org.members_active: {
        ("ann-acme", True),
        ("bob-acme", True),
        ("cy-acme", False),
        ("dee-acme", False),
    },
    repos.default_branch_reviewed: {
        ("acme/api@main", True),  # ruleset, one approval, no bypass list
        ("acme/web@main", False),  # branch protection not enforced on admins, bob may bypass
        ("acme/infra@main", False),  # org ruleset that organisation admins may bypass
    },
    repos.last_push_approval: {
        ("acme/api@main", True),  # ruleset, last push approval, no bypass list
        ("acme/web@main", False),  # bypassable, and the last push needs no other approval
        ("acme/infra@main", False),  # org ruleset without last push approval
    },
    repos.status_checks_required: {
        ("acme/api@main", True),
        ("acme/web@main", False),
        ("acme/infra@main", True),
    },
    repos.secret_scanning: {("acme/api", True), ("acme/web", True), ("acme/infra", False)},
    repos.push_protection: {("acme/api", False), ("acme/web", True), ("acme/infra", False)},
    # infra's security_and_analysis leaves Dependabot security updates out: never turned on
    repos.dependabot_security_updates: {
        ("acme/api", True),
        ("acme/web", False),
        ("acme/infra", False),
    },
    repos.deploy_keys_read_only: {("acme/api/keys/7001", True), ("acme/web/keys/7002", False)},
    repos.outside_collaborators_read_only: {
        ("acme/api/contractor-x", False),
        ("acme/web/docs-helper", True),
    },
    alerts.dependabot_within_deadline: {
        ("acme/api#1", True),  # critical, 4 days old, 7-day deadline
        ("acme/api#2", False),  # high, three months old
        ("acme/web#3", False),  # critical, a month old
    },
    alerts.code_scanning_within_deadline: {("acme/api#5", True), ("acme/web#7", False)},
    # staging, dev and preview are not production; infra has no environment
    environments.production_protected: {
        ("acme/api/environments/production", True),
        ("acme/web/environments/prod", False),  # on the second page
    },
}


@pytest.mark.parametrize("check", EXPECTED, ids=lambda c: c.__name__)
def test_checks_on_recorded_org(api, check):
    serve_org(api)
    assert verdicts(check, org_cache().get(INPUTS[check], TARGET)) == EXPECTED[check]


def test_messages_name_who_bypasses_and_what_is_required(api):
    serve_org(api)
    rules = org_cache().get(GithubBranchRules, TARGET)
    reviewed = {f.resource: f.message for f in findings(repos.default_branch_reviewed, rules)}
    assert reviewed == {
        "acme/api@main": "review required by ruleset main protection",
        "acme/web@main": "branch protection: bypassed by admins, user bob-acme",
        "acme/infra@main": "ruleset org baseline: bypassed by organization admins, admin role",
    }
    last_push = {f.resource: f.message for f in findings(repos.last_push_approval, rules)}
    assert last_push == {
        "acme/api@main": "last push approval required by ruleset main protection",
        "acme/web@main": "branch protection: bypassed by admins, user bob-acme",
        "acme/infra@main": "ruleset org baseline: bypassed by organization admins, admin role",
    }
    checks = {f.resource: f.message for f in findings(repos.status_checks_required, rules)}
    assert checks["acme/api@main"] == "required: CodeQL, ci/test"
    (late,) = [
        f
        for f in findings(
            alerts.dependabot_within_deadline, org_cache().get(GithubDependabotAlerts, TARGET)
        )
        if f.resource == "acme/api#2"
    ]
    assert late.message == (
        "high requests: GHSA-dddd-eeee-ffff Proxy-Authorization header leak, open since "
        "2024-03-01: 61 days past the 30-day deadline"
    )


def test_two_pages_followed_by_link_header_and_archived_repos_skipped(api):
    route = serve_org(api)
    cache = org_cache()
    members = cache.get(GithubMembers, TARGET)
    assert [m.login for m in members.members] == ["ann-acme", "bob-acme", "cy-acme", "dee-acme"]
    assert [m.login for m in members.owners] == ["ann-acme"]
    assert len(cache.get(GithubDependabotAlerts, TARGET).alerts) == 3
    cache.get(GithubBranchRules, TARGET)
    paths = [c.request.url.path for c in route.calls]
    assert paths.count("/organizations/9919/members") == 1  # page 2 via the Link header
    assert paths.count("/organizations/9919/dependabot/alerts") == 1  # cursor page
    assert paths.count("/organizations/9919/repos") == 1
    assert not any("old-site" in p for p in paths)  # archived: read-only, not swept
    first = route.calls[0].request
    assert first.headers["Authorization"] == "Bearer github_pat_example0000"
    assert first.headers["X-GitHub-Api-Version"] == "2022-11-28"
    members_call = next(c.request for c in route.calls if c.request.url.path.endswith("/members"))
    assert members_call.url.params["per_page"] == "2"


def test_the_repository_list_is_shared_by_every_repository_sweep(api):
    route = serve_org(api)
    cache = org_cache()
    for kind in (GithubRepos, GithubBranchRules, GithubDeployKeys, GithubCollaborators):
        cache.get(kind, TARGET)
    paths = [c.request.url.path for c in route.calls]
    assert paths.count("/orgs/acme/repos") == 1
    assert paths.count("/repos/acme/api/keys") == 1


def test_branch_protection_requiring_last_push_approval_without_bypass_passes(api):
    serve_org(api, {"/repos/acme/infra/branches/main/protection": "protection_last_push"})
    rules = org_cache().get(GithubBranchRules, TARGET)
    found = {f.resource: f for f in findings(repos.last_push_approval, rules)}
    assert found["acme/infra@main"].passed is True
    assert found["acme/infra@main"].message == "last push approval required by branch protection"


def test_production_environment_messages_name_each_gap(api):
    route = serve_org(api)
    envs = org_cache().get(GithubEnvironments, TARGET)
    assert [e.name for e in envs.environments if e.repo == "acme/web"] == ["dev", "preview", "prod"]
    assert [c.request.url.path for c in route.calls].count("/repositories/502/environments") == 1
    messages = {f.resource: f.message for f in findings(environments.production_protected, envs)}
    assert messages == {
        "acme/api/environments/production": "2 required reviewer(s), deploys from protected "
        "branches",
        "acme/web/environments/prod": "no required reviewers; any branch may deploy; admins may "
        "bypass",
    }


@pytest.mark.parametrize(
    ("name", "production"),
    [("prod", True), ("Production", True), ("prod-eu", True), ("prod_us", True),
     ("production (US)", True), ("products", False), ("preprod", False), ("staging", False)],
)  # fmt: skip
def test_which_environment_names_count_as_production(name, production):
    assert bool(environments.PRODUCTION.match(name)) is production
