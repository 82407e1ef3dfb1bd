"""The leavers and orphaned-accounts checks in a real run: Okta (recorded, the source of
truth), AWS IAM and IAM Identity Center (moto) and GitHub (recorded) read by their own
collectors through the runner; a failing input makes the check ERROR naming it."""

from __future__ import annotations

import boto3
import pytest
import respx

from collector.aws.accounts import resolve_accounts as aws_accounts
from collector.errors import UserError
from collector.github.accounts import resolve_accounts as github_accounts
from collector.identity.accounts import resolve_accounts as identity_accounts
from collector.identity.aliases import read_aliases
from collector.okta.accounts import resolve_accounts as okta_accounts
from collector.registry import load_registry
from collector.runner import Runner
from collector.settings import AwsSettings, IdentitySettings
from storage import EvidenceStore
from tests.aws.wire import ACCOUNT, ReportKey, ReportRow, serve_credential_report
from tests.github import wire as github_wire
from tests.okta import wire as okta_wire

REGISTRY = load_registry(entry_point_packs=False)
IDS = ("identity.leavers.deprovisioned", "identity.accounts.orphaned")


@pytest.fixture
def apis():
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def store(sqlite_url):
    opened = EvidenceStore.open(sqlite_url)
    yield opened
    opened.close()


def seed_aws(session: boto3.Session) -> None:
    """frank (suspended in Okta) keeps a console sign-in and an Identity Center assignment."""
    iam = session.client("iam")
    iam.create_user(UserName="frank")
    iam.create_login_profile(UserName="frank", Password="Example-only-Passw0rd!")
    iam.create_user(UserName="ann")
    iam.create_access_key(UserName="ann")
    now = okta_wire.NOW
    rows = [
        ReportRow.root(ACCOUNT, created=now, mfa_active=True),
        ReportRow.iam_user(ACCOUNT, "frank", created=now, console=True),
        ReportRow.iam_user(ACCOUNT, "ann", created=now, access_keys=(ReportKey(True, now),)),
    ]
    serve_credential_report(session, rows, now)
    sso, store = session.client("sso-admin"), session.client("identitystore")
    instance = sso.list_instances()["Instances"][0]
    user = store.create_user(
        IdentityStoreId=instance["IdentityStoreId"],
        UserName="frank@example.com",
        DisplayName="Frank",
        Name={"GivenName": "Frank", "FamilyName": "Example"},
        Emails=[{"Value": "frank@example.com", "Primary": True}],
    )
    permission_set = sso.create_permission_set(
        InstanceArn=instance["InstanceArn"], Name="AdministratorAccess"
    )["PermissionSet"]["PermissionSetArn"]
    sso.provision_permission_set(
        InstanceArn=instance["InstanceArn"],
        PermissionSetArn=permission_set,
        TargetType="AWS_ACCOUNT",
        TargetId="123456789012",
    )
    sso.create_account_assignment(
        InstanceArn=instance["InstanceArn"],
        TargetId="123456789012",
        TargetType="AWS_ACCOUNT",
        PermissionSetArn=permission_set,
        PrincipalType="USER",
        PrincipalId=user["UserId"],
    )


def run(apis, store, session, aliases, overrides=None):
    okta_wire.serve_org(apis)
    github_wire.serve_org(apis, overrides)
    accounts = [
        *identity_accounts(IdentitySettings(source="okta", aliases=aliases, match_local_part=True)),
        *okta_accounts(okta_wire.SETTINGS, environ=okta_wire.ENVIRON, clock=lambda: okta_wire.NOW),
        *github_accounts(github_wire.SETTINGS, environ=github_wire.ENVIRON, sleep=[].append),
        *aws_accounts(AwsSettings(regions="session"), session),
    ]
    result = Runner(REGISTRY, store, concurrency=4).run(REGISTRY.select(ids=IDS), accounts)
    return {r.check_id: r for r in result.records}


@pytest.fixture
def aliases(tmp_path):
    path = tmp_path / "aliases.yaml"
    path.write_text("frank@example.com: [github:dee-acme]\nann@example.com: github:ann-acme\n")
    return path


def test_a_leaver_is_found_in_three_providers(aws, session, apis, store, aliases):
    seed_aws(session)
    records = run(apis, store, session, aliases)
    leavers = records["identity.leavers.deprovisioned"]
    assert leavers.target_key == "identity:okta" and leavers.status == "fail", leavers.error
    (frank,) = [f for f in leavers.findings if f["resource"] == "frank@example.com"]
    assert frank["passed"] is False
    assert frank["message"] == (
        "SUSPENDED in okta; still has: aws:123456789012 iam frank (console sign-in); "
        "aws:123456789012 identity_center frank@example.com (AdministratorAccess in "
        "123456789012); github:acme github dee-acme (member)"
    )
    # every input is in the evidence, by target
    assert set(leavers.observations) == {
        "IdentityPolicy", "EntraUsers", "OktaUsers", "WorkspaceUsers", "IamCredentialReport",
        "IamUsers", "IdentityCenterUsers", "GithubMembers",
    }  # fmt: skip
    assert list(leavers.observations["GithubMembers"]) == ["github:acme"]
    orphaned = {f["resource"]: f["passed"] for f in records["identity.accounts.orphaned"].findings}
    assert orphaned["github:acme/github:bob-acme"] is False  # no alias, no e-mail login
    assert orphaned["aws:123456789012/iam:ann"] is True  # local part of ann@example.com


def test_a_failed_input_makes_both_checks_error_naming_it(aws, session, apis, store, aliases):
    seed_aws(session)
    records = run(apis, store, session, aliases, {"/orgs/acme/members": "error_forbidden"})
    for record in records.values():
        assert record.status == "error" and record.findings == []
        assert record.error == (
            "input GithubMembers from github:acme failed: HTTP 403 Forbidden on GET "
            "/orgs/acme/members: Resource not accessible by integration (missing permission: "
            "Members (organization): read)"
        )


def test_alias_files_in_yaml_and_csv(tmp_path):
    csv = tmp_path / "aliases.csv"
    csv.write_text("Person,Account\nAnn@Example.com,github:Ann-GH\nann@example.com,iam:ann.a\n")
    assert read_aliases(csv) == {"ann@example.com": ("github:ann-gh", "iam:ann.a")}
    bad = tmp_path / "bad.csv"
    bad.write_text("person,account\nann@example.com,gitlab:ann\n")
    with pytest.raises(UserError, match=r"bad.csv row 2: account 'gitlab:ann' must be"):
        read_aliases(bad)
    yaml = tmp_path / "bad.yaml"
    yaml.write_text("ann: [github:ann]\n")
    with pytest.raises(UserError, match=r"bad.yaml ann: person 'ann' is not an e-mail"):
        read_aliases(yaml)
