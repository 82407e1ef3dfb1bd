"""Leavers and orphaned accounts, judged as pure functions over hand-built snapshots from
Okta or Workspace or Entra (the source of truth), AWS IAM, IAM Identity Center and GitHub."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checks.api import Across
from checks.aws.models import (
    AccessKey,
    AttachedPolicy,
    CredentialReportEntry,
    IamCredentialReport,
    IamUser,
    IamUsers,
    IdentityCenterAssignment,
    IdentityCenterUser,
    IdentityCenterUsers,
)
from checks.entra.models import EntraUser, EntraUsers
from checks.github.models import GithubMember, GithubMembers
from checks.identity.accounts import accounts_orphaned, leavers_deprovisioned
from checks.identity.models import IdentityPolicy
from checks.okta.models import OktaUser, OktaUsers
from checks.testing import findings, verdicts
from checks.workspace.models import WorkspaceUser, WorkspaceUsers

NOW = datetime(2024, 6, 1, tzinfo=UTC)
AWS = "aws:123456789012"


def policy(source="okta", **changes) -> IdentityPolicy:
    base = {
        "source": source,
        "aliases": {"bob@acme.example": ("github:bobby-gh",)},
        "match_local_part": True,
        "privileged_permission_sets": ("AdministratorAccess",),
        "privileged_policies": ("AdministratorAccess",),
        "ignore": ("iam:ci-deploy",),
    }
    return IdentityPolicy(**(base | changes))


def okta(*users: tuple[str, str]) -> Across[OktaUsers]:
    people = tuple(
        OktaUser(
            id=f"00u{i}",
            login=login,
            status=status,
            created_at=None,
            activated_at=None,
            last_login=None,
        )
        for i, (login, status) in enumerate(users)
    )
    snapshot = OktaUsers(org="acme.okta.com", collected_at=NOW, inactive_days=90, users=people)
    return Across(OktaUsers, {"okta:acme.okta.com": snapshot})


def iam(*users: tuple[str, bool, bool]) -> Across[IamCredentialReport]:
    """(user, console sign-in, an active key)"""
    root = CredentialReportEntry(
        user="<root_account>",
        arn="arn:aws:iam::123456789012:root",
        is_root=True,
        password_enabled=False,
        mfa_active=True,
    )
    rows = [
        CredentialReportEntry(
            user=name,
            arn=f"arn:aws:iam::123456789012:user/{name}",
            password_enabled=password,
            mfa_active=False,
            access_keys=(AccessKey(slot=1, active=key, last_rotated=NOW),) if key else (),
        )
        for name, password, key in users
    ]
    return Across(
        IamCredentialReport, {AWS: IamCredentialReport(generated_at=NOW, entries=(root, *rows))}
    )


def iam_admins(*names: str) -> Across[IamUsers]:
    users = tuple(
        IamUser(
            name=n,
            arn=f"arn:aws:iam::123456789012:user/{n}",
            attached_policies=(
                AttachedPolicy(
                    name="AdministratorAccess", arn="arn:aws:iam::aws:policy/AdministratorAccess"
                ),
            ),
            inline_policies=(),
        )
        for n in names
    )
    return Across(IamUsers, {AWS: IamUsers(users=users)})


def sso(*users: tuple[str, str]) -> Across[IdentityCenterUsers]:
    """(user name = e-mail, permission set)"""
    snapshot = IdentityCenterUsers(
        region="us-east-1",
        instance_arn="arn:aws:sso:::instance/ssoins-1",
        users=tuple(
            IdentityCenterUser(
                id=f"u{i}",
                user_name=name,
                emails=(name,),
                display_name=None,
                assignments=(
                    IdentityCenterAssignment(account_id="123456789012", permission_set=ps),
                ),
            )
            for i, (name, ps) in enumerate(users)
        ),
    )
    return Across(IdentityCenterUsers, {AWS: snapshot})


def github(*members: tuple[str, str]) -> Across[GithubMembers]:
    snapshot = GithubMembers(
        org="acme",
        min_owners=2,
        max_owners=4,
        members=tuple(GithubMember(login=login, role=role) for login, role in members),
    )
    return Across(GithubMembers, {"github:acme": snapshot})


def inputs(**given):
    empty = {
        "entra": Across(EntraUsers),
        "okta": Across(OktaUsers),
        "workspace": Across(WorkspaceUsers),
        "iam": Across(IamCredentialReport),
        "iam_policies": Across(IamUsers),
        "identity_center": Across(IdentityCenterUsers),
        "github": Across(GithubMembers),
    }
    return tuple((empty | given).values())


ESTATE = {
    "okta": okta(
        ("ann@acme.example", "ACTIVE"),
        ("bob@acme.example", "SUSPENDED"),
        ("cy@acme.example", "DEPROVISIONED"),
        ("dee@acme.example", "SUSPENDED"),
    ),
    "iam": iam(
        ("ann", True, False),
        ("bob", False, True),
        ("ci-deploy", False, True),
        ("root-break-glass", True, False),
        ("old-dave", False, False),
    ),
    "iam_policies": iam_admins("root-break-glass"),
    "identity_center": sso(
        ("bob@acme.example", "ReadOnly"), ("zed@acme.example", "AdministratorAccess")
    ),
    "github": github(
        ("ann-acme", "admin"),
        ("bobby-gh", "member"),
        ("cy", "member"),
        ("mystery-owner", "admin"),
        ("someone", "member"),
    ),
}


def test_leavers_across_iam_identity_center_and_github():
    got = findings(leavers_deprovisioned, policy(), *inputs(**ESTATE))
    assert {(f.resource, f.passed) for f in got} == {
        ("bob@acme.example", False),
        ("cy@acme.example", False),
        ("dee@acme.example", True),
        # privileged accounts that match nobody: to review
        ("aws:123456789012/iam:root-break-glass", False),
        ("aws:123456789012/identity_center:zed@acme.example", False),
        ("github:acme/github:mystery-owner", False),
        ("github:acme/github:ann-acme", False),  # an owner whose login matches no e-mail
    }
    bob = next(f for f in got if f.resource == "bob@acme.example")
    assert bob.message == (
        "SUSPENDED in okta; still has: aws:123456789012 iam bob (access key 1); "
        "aws:123456789012 identity_center bob@acme.example (ReadOnly in 123456789012); "
        "github:acme github bobby-gh (member)"
    )
    dee = next(f for f in got if f.resource == "dee@acme.example")
    assert dee.message == "SUSPENDED in okta; no access left"


def test_an_alias_file_entry_resolves_a_name_that_differs():
    estate = ESTATE | {"github": github(("ann-acme", "admin"))}
    aliased = policy(aliases={"ann@acme.example": ("github:ann-acme",)})
    assert ("github:acme/github:ann-acme", False) in verdicts(
        leavers_deprovisioned, policy(), *inputs(**estate)
    )
    assert ("github:acme/github:ann-acme", False) not in verdicts(
        leavers_deprovisioned, aliased, *inputs(**estate)
    )


def test_local_parts_only_match_when_allowed_and_unique():
    people = okta(("bob@acme.example", "SUSPENDED"), ("bob@other.example", "ACTIVE"))
    keys = iam(("bob", True, False))
    assert verdicts(leavers_deprovisioned, policy(), *inputs(okta=people, iam=keys)) == {
        ("bob@acme.example", True)  # "bob" is two people's local part: matches neither
    }
    strict = policy(match_local_part=False)
    assert verdicts(
        leavers_deprovisioned,
        strict,
        *inputs(okta=okta(("bob@acme.example", "SUSPENDED")), iam=keys),
    ) == {("bob@acme.example", True)}


def test_workspace_as_source_and_okta_as_a_place_to_hold_access():
    people = WorkspaceUsers(
        domain="acme.example",
        collected_at=NOW,
        inactive_days=90,
        users=(
            WorkspaceUser(
                id="1",
                email="erin@acme.example",
                suspended=True,
                archived=False,
                super_admin=False,
                delegated_admin=False,
                enrolled_2sv=True,
                enforced_2sv=True,
                created_at=None,
                last_login=None,
            ),
        ),
    )
    got = verdicts(
        leavers_deprovisioned,
        policy("workspace"),
        *inputs(
            workspace=Across(WorkspaceUsers, {"workspace:acme.example": people}),
            okta=okta(("erin@acme.example", "ACTIVE")),
        ),
    )
    assert got == {("erin@acme.example", False)}


def test_entra_as_source():
    people = EntraUsers(
        users=(
            EntraUser(
                id="1", upn="fay@acme.example", user_type="Member", enabled=False, created_at=None
            ),
        )
    )
    got = findings(
        leavers_deprovisioned,
        policy("entra"),
        *inputs(
            entra=Across(EntraUsers, {"entra:tenant": people}), github=github(("fay", "member"))
        ),
    )
    assert [(f.resource, f.passed, f.message) for f in got] == [
        ("fay@acme.example", False, "disabled in entra; still has: github:acme github fay (member)")
    ]


def test_an_unconfigured_source_of_truth_is_an_error_not_a_pass():
    with pytest.raises(ValueError, match="source of truth 'okta' has no configured target"):
        findings(leavers_deprovisioned, policy(), *inputs(github=github(("x", "admin"))))


def test_orphaned_accounts():
    got = verdicts(accounts_orphaned, policy(), *inputs(**ESTATE))
    assert got == {
        ("aws:123456789012/iam:ann", True),
        ("aws:123456789012/iam:bob", True),  # a leaver: the leavers check's finding
        ("aws:123456789012/iam:root-break-glass", False),
        ("aws:123456789012/identity_center:bob@acme.example", True),
        ("aws:123456789012/identity_center:zed@acme.example", False),
        ("github:acme/github:ann-acme", False),
        ("github:acme/github:bobby-gh", True),
        ("github:acme/github:cy", True),
        ("github:acme/github:mystery-owner", False),
        ("github:acme/github:someone", False),
    }  # iam:ci-deploy is ignored (a service account); old-dave holds no access
