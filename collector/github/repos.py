"""GitHub repository collectors: the repositories, their default branch's protection and
rulesets, deploy keys and outside collaborators. Archived repositories are read-only and
skipped by the per-repository sweeps."""

from __future__ import annotations

from typing import Any

from checks.github.models import (
    BranchRule,
    Collaborator,
    DefaultBranch,
    DeployKey,
    GithubBranchRules,
    GithubCollaborators,
    GithubDeployKeys,
    GithubRepo,
    GithubRepos,
)
from collector.collect import collects
from collector.github.api import ADMINISTRATION, MEMBERS, METADATA, Scope, listed, requires
from collector.http import ApiError

#: Repository roles by the id GitHub gives them in ruleset bypass lists.
_ROLES = {1: "read", 2: "write", 3: "triage", 4: "maintain", 5: "admin"}


def _status(analysis: Any, feature: str) -> str | None:
    if not isinstance(analysis, dict):
        return None
    return (analysis.get(feature) or {}).get("status") or "disabled"


@collects(GithubRepos, permissions=[METADATA, ADMINISTRATION])
def repositories(scope: Scope) -> GithubRepos:
    """``GET /orgs/{org}/repos?type=all``; ``security_and_analysis`` is only shown to those
    with admin rights on a repository (else its states stay ``None``)."""
    org = scope.target.account
    found = listed(scope, f"/orgs/{org}/repos", METADATA, type="all")
    return GithubRepos(
        org=org,
        repos=tuple(
            GithubRepo(
                full_name=r["full_name"],
                visibility=r.get("visibility") or ("private" if r.get("private") else "public"),
                archived=bool(r.get("archived")),
                default_branch=r["default_branch"],
                secret_scanning=_status(r.get("security_and_analysis"), "secret_scanning"),
                push_protection=_status(
                    r.get("security_and_analysis"), "secret_scanning_push_protection"
                ),
                dependabot_security_updates=_status(
                    r.get("security_and_analysis"), "dependabot_security_updates"
                ),
            )
            for r in found
        ),
    )


def _classic(protection: dict[str, Any]) -> BranchRule:
    """A branch protection rule (``GET .../branches/{branch}/protection``)."""
    reviews = protection.get("required_pull_request_reviews")
    bypass = [] if (protection.get("enforce_admins") or {}).get("enabled") else ["admins"]
    if isinstance(reviews, dict):
        allowed = reviews.get("bypass_pull_request_allowances") or {}
        bypass += [f"user {u['login']}" for u in allowed.get("users", ())]
        bypass += [f"team {t['slug']}" for t in allowed.get("teams", ())]
        bypass += [f"app {a['slug']}" for a in allowed.get("apps", ())]
    checks = protection.get("required_status_checks") or {}
    names = [c["context"] for c in checks.get("checks") or ()] or checks.get("contexts") or []
    return BranchRule(
        source="branch protection",
        approvals=reviews.get("required_approving_review_count", 0)
        if isinstance(reviews, dict)
        else None,
        bypass=tuple(bypass),
        status_checks=tuple(sorted(set(names))),
        last_push_approval=isinstance(reviews, dict)
        and bool(reviews.get("require_last_push_approval")),
    )


def _actor(actor: dict[str, Any]) -> str:
    kind, ident = actor.get("actor_type"), actor.get("actor_id")
    if kind == "OrganizationAdmin":
        return "organization admins"
    if kind == "RepositoryRole":
        return f"{_ROLES.get(ident or 0, f'role {ident}')} role"
    if kind == "DeployKey":
        return "deploy keys"
    return f"{str(kind).lower()} {ident}"


def _rulesets(scope: Scope, repo: str, rules: list[dict[str, Any]]) -> list[BranchRule]:
    """One rule per active ruleset that applies to the branch (``GET .../rules/branches``),
    with its bypass list from the ruleset itself (shown only with admin rights)."""
    org = scope.target.account
    result = []
    for ruleset_id in sorted({r["ruleset_id"] for r in rules}):
        mine = [r for r in rules if r["ruleset_id"] == ruleset_id]
        owner = mine[0].get("ruleset_source_type")
        path = (
            f"/orgs/{org}/rulesets/{ruleset_id}"
            if owner == "Organization"
            else f"/repos/{repo}/rulesets/{ruleset_id}"
        )
        ruleset = scope.api.get(path, requires=requires(ADMINISTRATION))
        if "bypass_actors" not in ruleset:
            raise ValueError(
                f"GitHub did not show who may bypass ruleset {ruleset_id} of {repo}: grant "
                f"{requires(ADMINISTRATION)}"
            )
        reviews = next((r for r in mine if r["type"] == "pull_request"), None)
        checks = next((r for r in mine if r["type"] == "required_status_checks"), None)
        result.append(
            BranchRule(
                source=f"ruleset {ruleset.get('name') or ruleset_id}",
                approvals=(reviews.get("parameters") or {}).get(
                    "required_approving_review_count", 0
                )
                if reviews
                else None,
                bypass=tuple(_actor(a) for a in ruleset["bypass_actors"]),
                last_push_approval=bool(
                    ((reviews or {}).get("parameters") or {}).get("require_last_push_approval")
                ),
                status_checks=tuple(
                    sorted(
                        c["context"]
                        for c in ((checks or {}).get("parameters") or {}).get(
                            "required_status_checks", ()
                        )
                    )
                ),
            )
        )
    return result


def _upgrade_needed(exc: ApiError) -> bool:
    return exc.status == 403 and "upgrade" in exc.message.lower()


@collects(GithubBranchRules, permissions=[METADATA, ADMINISTRATION])
def branch_rules(scope: Scope) -> GithubBranchRules:
    """Branch protection and active rulesets on each unarchived repository's default branch.
    "Branch not protected" (404) is a fact; GitHub refusing protection on a private
    repository of a free plan is recorded as why the branch has none; an empty repository
    ("Branch not found") has no branch to judge."""
    org = scope.target.account
    branches = []
    for repo in scope.get(GithubRepos).active:
        name, branch = repo.full_name, repo.default_branch
        rules: list[BranchRule] = []
        try:
            protection = scope.api.get(
                f"/repos/{name}/branches/{branch}/protection", requires=requires(ADMINISTRATION)
            )
            rules.append(_classic(protection))
        except ApiError as exc:
            if _upgrade_needed(exc):
                branches.append(DefaultBranch(repo=name, branch=branch, rules=(), unavailable=(
                    f"branch protection unavailable on this plan: {exc.message}")))  # fmt: skip
                continue
            if exc.status == 404 and "branch not found" in exc.message.lower():
                continue  # an empty repository: no branch, nothing to protect yet
            if not (exc.status == 404 and "not protected" in exc.message.lower()):
                raise
        applied = listed(scope, f"/repos/{name}/rules/branches/{branch}", METADATA)
        rules += _rulesets(scope, name, applied)
        branches.append(DefaultBranch(repo=name, branch=branch, rules=tuple(rules)))
    return GithubBranchRules(org=org, branches=tuple(branches))


@collects(GithubDeployKeys, permissions=[ADMINISTRATION])
def deploy_keys(scope: Scope) -> GithubDeployKeys:
    """Each unarchived repository's deploy keys (the public key itself is not kept)."""
    return GithubDeployKeys(
        org=scope.target.account,
        keys={
            repo.full_name: tuple(
                DeployKey(id=k["id"], title=k.get("title") or "", read_only=bool(k["read_only"]))
                for k in listed(scope, f"/repos/{repo.full_name}/keys", ADMINISTRATION)
            )
            for repo in scope.get(GithubRepos).active
        },
    )


def _permission(person: dict[str, Any]) -> str:
    role = person.get("role_name")
    if isinstance(role, str) and role:
        return "write" if role == "push" else role
    granted = person.get("permissions") or {}
    for name, shown in (("admin", "admin"), ("maintain", "maintain"), ("push", "write"),
                        ("triage", "triage")):  # fmt: skip
        if granted.get(name):
            return shown
    return "read"


@collects(GithubCollaborators, permissions=[METADATA, MEMBERS])
def outside_collaborators(scope: Scope) -> GithubCollaborators:
    """Outside collaborators (``affiliation=outside``) of each unarchived repository."""
    return GithubCollaborators(
        org=scope.target.account,
        outside={
            repo.full_name: tuple(
                Collaborator(login=c["login"], permission=_permission(c))
                for c in listed(
                    scope, f"/repos/{repo.full_name}/collaborators", METADATA, affiliation="outside"
                )
            )
            for repo in scope.get(GithubRepos).active
        },
    )
