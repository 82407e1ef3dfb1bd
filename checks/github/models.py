"""Typed GitHub snapshots, one organisation per target: only what the checks judge, no secrets
(a deploy key's public key and an alert's code location are left out)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Snapshot, SnapshotPart

__all__ = [
    "ALERT_SEVERITIES",
    "BranchRule",
    "Collaborator",
    "DefaultBranch",
    "DeployEnvironment",
    "DeployKey",
    "GithubBranchRules",
    "GithubCodeScanningAlerts",
    "GithubCollaborators",
    "GithubDependabotAlerts",
    "GithubDeployKeys",
    "GithubEnvironments",
    "GithubMember",
    "GithubMemberActivity",
    "GithubMembers",
    "GithubOrg",
    "GithubRepo",
    "GithubRepos",
    "SecurityAlert",
    "SecurityAlerts",
]

#: Alert severities annexa judges against a deadline (the rest are not judged).
ALERT_SEVERITIES = ("critical", "high")


class _GithubSnapshot(Snapshot):
    provider: ClassVar[str] = "github"


class GithubOrg(_GithubSnapshot):
    """``GET /orgs/{org}``. ``two_factor_required`` is ``None`` when GitHub does not show it
    (the caller is not allowed to read the organisation's settings)."""

    resource_noun: ClassVar[str] = "organizations"

    login: str
    two_factor_required: bool | None
    default_repository_permission: str | None  # read, write, admin, none
    plan: str | None


class GithubMember(SnapshotPart):
    login: str
    role: str  # "admin" (organisation owner) or "member"


class GithubMembers(_GithubSnapshot):
    """Every organisation member with their role (``GET /orgs/{org}/members``, all and
    ``role=admin``), and the owner range the organisation wants."""

    resource_noun: ClassVar[str] = "members"

    org: str
    min_owners: int
    max_owners: int
    members: tuple[GithubMember, ...]

    @property
    def owners(self) -> tuple[GithubMember, ...]:
        return tuple(m for m in self.members if m.role == "admin")


class GithubMemberActivity(_GithubSnapshot):
    """Members seen acting in the organisation audit log since ``since`` (GitHub Enterprise
    Cloud); a member not in ``active`` did nothing GitHub logs for ``inactive_days``."""

    resource_noun: ClassVar[str] = "members"

    org: str
    since: AwareDatetime
    inactive_days: int
    members: tuple[str, ...]
    active: tuple[str, ...]  # sorted logins


class GithubRepo(SnapshotPart):
    """One repository; secret scanning and Dependabot security update states are
    ``enabled``/``disabled``, ``None`` when GitHub's answer leaves ``security_and_analysis``
    out (no right to see it)."""

    full_name: str
    visibility: str  # public, private, internal
    archived: bool
    default_branch: str
    secret_scanning: str | None
    push_protection: str | None
    dependabot_security_updates: str | None = None


class GithubRepos(_GithubSnapshot):
    resource_noun: ClassVar[str] = "repositories"

    org: str
    repos: tuple[GithubRepo, ...]

    @property
    def active(self) -> tuple[GithubRepo, ...]:
        """Repositories that can still change (archived ones are read-only)."""
        return tuple(r for r in self.repos if not r.archived)


class BranchRule(SnapshotPart):
    """What one branch protection rule or ruleset requires of a branch."""

    source: str  # "branch protection" or "ruleset <name>"
    approvals: int | None  # required approving reviews; None: no pull request required
    bypass: tuple[str, ...]  # who may skip it (admins when not enforced on them, actors)
    status_checks: tuple[str, ...]
    last_push_approval: bool = False  # the most recent push needs someone else's approval


class DefaultBranch(SnapshotPart):
    repo: str
    branch: str
    rules: tuple[BranchRule, ...]
    unavailable: str | None = None  # why the plan offers no protection for this repository


class GithubBranchRules(_GithubSnapshot):
    """Branch protection and rulesets on each unarchived repository's default branch."""

    resource_noun: ClassVar[str] = "repositories"

    org: str
    branches: tuple[DefaultBranch, ...]


class DeployKey(SnapshotPart):
    id: int
    title: str
    read_only: bool


class GithubDeployKeys(_GithubSnapshot):
    resource_noun: ClassVar[str] = "repositories"

    org: str
    keys: dict[str, tuple[DeployKey, ...]]  # repository full name -> its keys


class DeployEnvironment(SnapshotPart):
    """One deployment environment and what stands before a deployment to it."""

    repo: str
    name: str
    reviewers: int  # people and teams of its required_reviewers rule (0: no such rule)
    branches: str | None  # "protected branches", "selected branches", None: any branch
    admins_bypass: bool | None  # can_admins_bypass; None when GitHub's answer leaves it out


class GithubEnvironments(_GithubSnapshot):
    """The deployment environments of each unarchived repository."""

    resource_noun: ClassVar[str] = "environments"

    org: str
    environments: tuple[DeployEnvironment, ...]


class Collaborator(SnapshotPart):
    login: str
    permission: str  # the highest: admin, maintain, write (push), triage, read


class GithubCollaborators(_GithubSnapshot):
    """Outside collaborators (``affiliation=outside``) of each unarchived repository."""

    resource_noun: ClassVar[str] = "repositories"

    org: str
    outside: dict[str, tuple[Collaborator, ...]]


class SecurityAlert(SnapshotPart):
    repo: str
    number: int
    severity: str  # critical, high, medium, low (code scanning: security severity)
    created_at: AwareDatetime
    summary: str  # the advisory or rule, never the code it points at
    url: str


class SecurityAlerts(_GithubSnapshot):
    """Open alerts of critical or high severity, with the deadline per severity (days)."""

    resource_noun: ClassVar[str] = "alerts"

    org: str
    collected_at: AwareDatetime
    deadline_days: dict[str, int]
    alerts: tuple[SecurityAlert, ...]

    def overdue(self, alert: SecurityAlert) -> int | None:
        """Days past its deadline, or ``None`` while inside it."""
        age = (self.collected_at - alert.created_at).days
        late = age - self.deadline_days[alert.severity]
        return late if late > 0 else None


class GithubDependabotAlerts(SecurityAlerts):
    """``GET /orgs/{org}/dependabot/alerts?state=open&severity=critical,high``."""


class GithubCodeScanningAlerts(SecurityAlerts):
    """``GET /orgs/{org}/code-scanning/alerts?state=open`` with security severity critical/high."""
