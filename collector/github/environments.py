"""GitHub deployment environments of each unarchived repository
(``GET /repos/{owner}/{repo}/environments``, an object whose ``environments`` page by Link)."""

from __future__ import annotations

from typing import Any

from checks.github.models import DeployEnvironment, GithubEnvironments, GithubRepos
from collector.collect import collects
from collector.github.api import ACTIONS, METADATA, Scope, listed


def _branches(policy: Any) -> str | None:
    if not isinstance(policy, dict):
        return None  # null: every branch may deploy
    if policy.get("protected_branches"):
        return "protected branches"
    return "selected branches" if policy.get("custom_branch_policies") else None


def _environment(repo: str, found: dict[str, Any]) -> DeployEnvironment:
    rules = found.get("protection_rules") or ()
    reviewers = sum(
        len(r.get("reviewers") or ()) for r in rules if r["type"] == "required_reviewers"
    )
    bypass = found.get("can_admins_bypass")
    return DeployEnvironment(
        repo=repo,
        name=found["name"],
        reviewers=reviewers,
        branches=_branches(found.get("deployment_branch_policy")),
        admins_bypass=bypass if isinstance(bypass, bool) else None,
    )


@collects(GithubEnvironments, permissions=[METADATA, ACTIONS])
def environments(scope: Scope) -> GithubEnvironments:
    """Every environment of every unarchived repository, with its protection rules."""
    return GithubEnvironments(
        org=scope.target.account,
        environments=tuple(
            _environment(repo.full_name, found)
            for repo in scope.get(GithubRepos).active
            for found in listed(
                scope, f"/repos/{repo.full_name}/environments", ACTIONS, key="environments"
            )
        ),
    )
