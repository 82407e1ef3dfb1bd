"""GitHub repository checks: default-branch review, approval of the last push and status
checks, secret scanning and push protection, Dependabot security updates, deploy keys,
outside collaborators."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.github.models import (
    BranchRule,
    DefaultBranch,
    GithubBranchRules,
    GithubCollaborators,
    GithubDeployKeys,
    GithubRepos,
)

#: Collaborator permissions that can change a repository.
WRITE_PERMISSIONS = frozenset({"admin", "maintain", "write"})


def _resource(branch: DefaultBranch) -> str:
    return f"{branch.repo}@{branch.branch}"


def _reviewed(rule: BranchRule) -> bool:
    return (rule.approvals or 0) >= 1 and not rule.bypass


@check(
    id="github.repos.default_branch_reviewed",
    title="Default branches require an approving pull-request review that admins cannot bypass",
    severity="high",
    remediation="Add a branch ruleset (or branch protection rule) on the default branch: "
    "require a pull request with at least one approval, with no bypass list (branch "
    "protection: 'Do not allow bypassing the above settings').",
)
def default_branch_reviewed(rules: GithubBranchRules) -> Iterator[Finding]:
    """Passes a branch when one rule requires >= 1 approval and nobody may bypass it."""
    for branch in rules.branches:
        good = [r.source for r in branch.rules if _reviewed(r)]
        if good:
            message = f"review required by {', '.join(good)}"
        elif branch.unavailable:
            message = branch.unavailable
        elif not branch.rules:
            message = "no branch protection or ruleset"
        else:
            message = "; ".join(
                f"{r.source}: "
                + (
                    f"bypassed by {', '.join(r.bypass)}"
                    if (r.approvals or 0) >= 1
                    else "no approving review required"
                )
                for r in branch.rules
            )
        yield Finding(resource=_resource(branch), passed=bool(good), message=message)


@check(
    id="github.repos.last_push_approval",
    title="Default branches need the most recent push approved by someone other than its pusher",
    severity="medium",
    remediation="In the default branch's ruleset (or branch protection rule), require a pull "
    "request with 'Require approval of the most recent reviewable push', and no bypass list.",
)
def last_push_approval(rules: GithubBranchRules) -> Iterator[Finding]:
    """Passes a branch when one rule it cannot bypass requires >= 1 approval of the most
    recent push by someone other than the person who pushed it."""
    for branch in rules.branches:
        good = [r.source for r in branch.rules if _reviewed(r) and r.last_push_approval]
        if good:
            message = f"last push approval required by {', '.join(good)}"
        else:
            message = branch.unavailable or (
                "; ".join(f"{r.source}: {_short_of_last_push(r)}" for r in branch.rules)
                or "no branch protection or ruleset"
            )
        yield Finding(resource=_resource(branch), passed=bool(good), message=message)


def _short_of_last_push(rule: BranchRule) -> str:
    if (rule.approvals or 0) < 1:
        return "no approving review required"
    if rule.bypass:
        return f"bypassed by {', '.join(rule.bypass)}"
    return "approval of the last push not required"


@check(
    id="github.repos.status_checks_required",
    title="Default branches require status checks to pass before merging",
    severity="medium",
    remediation="Require status checks (CI build, tests, scanners) in the default branch's "
    "ruleset or branch protection rule.",
)
def status_checks_required(rules: GithubBranchRules) -> Iterator[Finding]:
    for branch in rules.branches:
        checks = sorted({c for r in branch.rules for c in r.status_checks})
        yield Finding(
            resource=_resource(branch),
            passed=bool(checks),
            message=f"required: {', '.join(checks)}"
            if checks
            else branch.unavailable or "no required status checks",
        )


def _scanning(repos: GithubRepos, field: str, what: str) -> Iterator[Finding]:
    for repo in repos.active:
        state = getattr(repo, field)
        if state is None:
            raise ValueError(
                f"GitHub did not show {what} for {repo.full_name}: the credential needs "
                "Administration read (or the security manager role) on the repositories"
            )
        yield Finding(resource=repo.full_name, passed=state == "enabled", message=f"{what} {state}")


@check(
    id="github.repos.secret_scanning",
    title="Secret scanning is on for every repository",
    severity="high",
    remediation="Organisation settings > Code security: enable secret scanning for all "
    "repositories (a security configuration applied to all).",
)
def secret_scanning(repos: GithubRepos) -> Iterator[Finding]:
    yield from _scanning(repos, "secret_scanning", "secret scanning")


@check(
    id="github.repos.push_protection",
    title="Secret scanning push protection is on for every repository",
    severity="high",
    remediation="Organisation settings > Code security: enable push protection, so commits "
    "containing recognised secrets are blocked before they land.",
)
def push_protection(repos: GithubRepos) -> Iterator[Finding]:
    yield from _scanning(repos, "push_protection", "push protection")


@check(
    id="github.repos.dependabot_security_updates",
    title="Dependabot security updates are on for every repository",
    severity="medium",
    remediation="Organisation settings > Code security: enable Dependabot alerts and security "
    "updates for all repositories (a security configuration applied to all).",
)
def dependabot_security_updates(repos: GithubRepos) -> Iterator[Finding]:
    yield from _scanning(repos, "dependabot_security_updates", "Dependabot security updates")


@check(
    id="github.repos.deploy_keys_read_only",
    title="Deploy keys are read-only",
    severity="medium",
    remediation="Replace write deploy keys with read-only ones, or with a GitHub App whose "
    "permissions are scoped and whose tokens expire.",
)
def deploy_keys_read_only(keys: GithubDeployKeys) -> Iterator[Finding]:
    for repo, found in sorted(keys.keys.items()):
        for key in found:
            yield Finding(
                resource=f"{repo}/keys/{key.id}",
                passed=key.read_only,
                message=f"{key.title}: {'read-only' if key.read_only else 'write access'}",
            )


@check(
    id="github.repos.outside_collaborators_read_only",
    title="Outside collaborators cannot write to repositories",
    severity="medium",
    remediation="Lower outside collaborators to read or triage, or make them members bound by "
    "the organisation's identity, 2FA and review rules.",
)
def outside_collaborators_read_only(collaborators: GithubCollaborators) -> Iterator[Finding]:
    for repo, people in sorted(collaborators.outside.items()):
        for person in people:
            yield Finding(
                resource=f"{repo}/{person.login}",
                passed=person.permission not in WRITE_PERMISSIONS,
                message=f"outside collaborator with {person.permission}",
            )
