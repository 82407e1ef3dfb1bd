"""Leavers who still hold access elsewhere, and accounts that belong to nobody."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from checks.api import Across, Finding, check
from checks.aws.models import IamCredentialReport, IamUsers, IdentityCenterUsers
from checks.entra.models import EntraUsers
from checks.github.models import GithubMembers
from checks.identity.models import IdentityPolicy
from checks.identity.people import Directories, Holding, Matcher
from checks.okta.models import OktaUsers
from checks.workspace.models import WorkspaceUsers


@check(
    id="identity.leavers.deprovisioned",
    title="People who left hold no access in any other provider",
    severity="critical",
    interval="1d",
    remediation="Remove each listed account (or its keys, assignments and memberships) now; "
    "then make deprovisioning in the identity provider reach every system (SCIM, SSO only).",
)
def leavers_deprovisioned(
    policy: IdentityPolicy,
    entra: Across[EntraUsers],
    okta: Across[OktaUsers],
    workspace: Across[WorkspaceUsers],
    iam: Across[IamCredentialReport],
    iam_policies: Across[IamUsers],
    identity_center: Across[IdentityCenterUsers],
    github: Across[GithubMembers],
) -> Iterator[Finding]:
    """One finding per person suspended, deactivated or deleted in the source of truth (failing
    while any account still matches them), and one failing finding per privileged account
    that matches nobody (to review: it may be a leaver under another name)."""
    directories = Directories(entra, okta, workspace, iam, iam_policies, identity_center, github)
    people = directories.people(policy.source)
    matcher = Matcher(people, policy)
    held: dict[str, list[Holding]] = defaultdict(list)
    unmatched: list[Holding] = []
    for holding in directories.holdings(policy):
        person = matcher.person(holding)
        if person is not None:
            held[person.email].append(holding)
        elif holding.privileged and holding.ref not in policy.ignore:
            unmatched.append(holding)
    for person in sorted((p for p in people.values() if p.left), key=lambda p: p.email):
        still = held.get(person.email, [])
        yield Finding(
            resource=person.email,
            passed=not still,
            message=f"{person.status} in {policy.source}; "
            + ("still has: " + "; ".join(sorted(map(str, still))) if still else "no access left"),
        )
    for holding in unmatched:
        yield Finding(
            resource=f"{holding.where}/{holding.ref}",
            passed=False,
            message=f"privileged account ({holding.access}) matches nobody in {policy.source}: "
            "review it, or map it in the alias file",
        )


@check(
    id="identity.accounts.orphaned",
    title="Every account belongs to a current person in the source of truth",
    severity="high",
    interval="1d",
    remediation="Remove accounts nobody owns; map the ones whose names differ in the alias "
    "file; list real service accounts under identity.ignore.",
)
def accounts_orphaned(
    policy: IdentityPolicy,
    entra: Across[EntraUsers],
    okta: Across[OktaUsers],
    workspace: Across[WorkspaceUsers],
    iam: Across[IamCredentialReport],
    iam_policies: Across[IamUsers],
    identity_center: Across[IdentityCenterUsers],
    github: Across[GithubMembers],
) -> Iterator[Finding]:
    """One finding per account with access: passing when it matches a person the source of
    truth lists (leavers are the leavers check's), failing when it matches nobody."""
    directories = Directories(entra, okta, workspace, iam, iam_policies, identity_center, github)
    matcher = Matcher(directories.people(policy.source), policy)
    for holding in directories.holdings(policy):
        if holding.ref in policy.ignore:
            continue
        person = matcher.person(holding)
        yield Finding(
            resource=f"{holding.where}/{holding.ref}",
            passed=person is not None,
            message=f"{holding.access}: belongs to {person.email} ({person.status})"
            if person
            else f"{holding.access}: matches nobody in {policy.source}",
        )
