"""GitHub organisation checks: two-factor authentication, owners, base permission, members."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.github.models import GithubMemberActivity, GithubMembers, GithubOrg

#: Base permissions that give every member no more than read access to every repository.
READ_ONLY_BASES = frozenset({"none", "read"})


@check(
    id="github.org.two_factor_required",
    title="The GitHub organisation requires two-factor authentication",
    severity="high",
    remediation="Organisation settings > Authentication security: require two-factor "
    "authentication for everyone (members without it are removed).",
)
def two_factor_required(org: GithubOrg) -> Iterator[Finding]:
    if org.two_factor_required is None:
        raise ValueError(
            f"GitHub did not show two_factor_requirement_enabled for {org.login}: the "
            "credential needs organisation owner rights (App: Administration read)"
        )
    yield Finding(
        resource=org.login,
        passed=org.two_factor_required,
        message="2FA required" if org.two_factor_required else "2FA not required",
    )


@check(
    id="github.org.owner_count",
    title="The GitHub organisation has a small number of owners",
    severity="medium",
    remediation="Keep two owners (one can recover the other) and no more than the configured "
    "maximum; give everyone else the member role and repository-level access.",
)
def owner_count(members: GithubMembers) -> Iterator[Finding]:
    owners = sorted(m.login for m in members.owners)
    ok = members.min_owners <= len(owners) <= members.max_owners
    yield Finding(
        resource=members.org,
        passed=ok,
        message=f"{len(owners)} owners ({', '.join(owners) or 'none'}); wanted "
        f"{members.min_owners} to {members.max_owners}",
    )


@check(
    id="github.org.base_permission_read",
    title="Organisation members get at most read access to repositories by default",
    severity="medium",
    remediation="Organisation settings > Member privileges > Base permissions: Read or No "
    "permission; grant write through teams.",
)
def base_permission_read(org: GithubOrg) -> Iterator[Finding]:
    base = org.default_repository_permission
    if base is None:
        raise ValueError(f"GitHub did not show default_repository_permission for {org.login}")
    yield Finding(
        resource=org.login, passed=base in READ_ONLY_BASES, message=f"base permission {base}"
    )


@check(
    id="github.members.inactive",
    title="Every GitHub organisation member has been active recently",
    severity="medium",
    remediation="Remove members who no longer need access, or confirm with their manager.",
)
def members_active(activity: GithubMemberActivity) -> Iterator[Finding]:
    """One finding per member: active when the audit log shows them acting since ``since``."""
    for login in activity.members:
        seen = login in activity.active
        yield Finding(
            resource=login,
            passed=seen,
            message=f"active since {activity.since.date()}"
            if seen
            else f"no audit-log activity in {activity.inactive_days} days",
        )
