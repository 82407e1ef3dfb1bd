"""GitHub organisation collectors: its settings, members and owners, audit-log activity."""

from __future__ import annotations

from datetime import timedelta

from checks.github.models import GithubMember, GithubMemberActivity, GithubMembers, GithubOrg
from collector.collect import collects
from collector.github.api import (
    MEMBERS,
    ORG_ADMINISTRATION,
    Scope,
    listed,
    requires,
    unavailable,
)
from collector.http import ApiError


@collects(GithubOrg, permissions=[ORG_ADMINISTRATION])
def organization(scope: Scope) -> GithubOrg:
    """``GET /orgs/{org}``: settings fields are only shown to owners (else left ``None``)."""
    org = scope.target.account
    body = scope.api.get(f"/orgs/{org}", requires=requires(ORG_ADMINISTRATION))
    plan = body.get("plan")
    return GithubOrg(
        login=body.get("login") or org,
        two_factor_required=body.get("two_factor_requirement_enabled"),
        default_repository_permission=body.get("default_repository_permission"),
        plan=plan.get("name") if isinstance(plan, dict) else None,
    )


@collects(GithubMembers, permissions=[MEMBERS])
def members(scope: Scope) -> GithubMembers:
    """Every member, and which of them are owners (``role=admin``)."""
    org = scope.target.account
    everyone = listed(scope, f"/orgs/{org}/members", MEMBERS, role="all")
    owners = {m["login"] for m in listed(scope, f"/orgs/{org}/members", MEMBERS, role="admin")}
    return GithubMembers(
        org=org,
        min_owners=scope.settings.min_owners,
        max_owners=scope.settings.max_owners,
        members=tuple(
            GithubMember(login=m["login"], role="admin" if m["login"] in owners else "member")
            for m in everyone
        ),
    )


@collects(GithubMemberActivity, permissions=[ORG_ADMINISTRATION, MEMBERS])
def member_activity(scope: Scope) -> GithubMemberActivity:
    """Actors of the organisation audit log (web and Git events) since ``inactive_days`` ago.
    The audit log API is a GitHub Enterprise Cloud feature: elsewhere it answers 404."""
    org = scope.target.account
    days = scope.settings.inactive_days
    since = scope.now() - timedelta(days=days)
    phrase = f"created:>={since.date().isoformat()}"
    try:
        events = listed(
            scope, f"/orgs/{org}/audit-log", ORG_ADMINISTRATION, phrase=phrase, include="all"
        )
    except ApiError as exc:
        raise unavailable(exc, "the audit log API", org) or exc from None
    return GithubMemberActivity(
        org=org,
        since=since,
        inactive_days=days,
        members=tuple(m.login for m in scope.get(GithubMembers).members),
        active=tuple(sorted({str(e["actor"]) for e in events if e.get("actor")})),
    )
