"""IAM privilege and credential-hygiene checks: root keys and use, idle credentials, admin
rights on users and customer policies, Access Analyzer (moto plus real wire answers)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from checks.aws.iam import (
    access_analyzer_enabled,
    no_admin_policy_on_users,
    no_full_admin_customer_policies,
    root_access_keys_absent,
    root_recently_unused,
    unused_credentials_disabled,
    users_permissions_via_groups,
)
from checks.aws.models import AccessAnalyzers, IamCredentialReport, IamCustomerPolicies, IamUsers
from checks.testing import findings, verdicts
from collector.aws.credential_report import serve_wire_by_region
from collector.testing import collect_aws
from tests.aws.wire import (
    ACCOUNT,
    ReportKey,
    ReportRow,
    iam_error,
    serve_credential_report,
    serve_wire,
)

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ADMIN_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess"


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def policy_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/{name}"


def days(n: int) -> datetime:
    return NOW - timedelta(days=n)


# --- credential report: root keys, root use, idle credentials ------------------------------


def test_root_with_keys_used_recently_and_idle_user_credentials_fail(
    session: boto3.Session,
) -> None:
    rows = [
        ReportRow.root(
            ACCOUNT,
            created=days(2000),
            mfa_active=True,
            password_last_used=days(90),
            access_keys=(ReportKey(True, days(400), last_used=days(3)),),
        ),
        # console used 46 days ago: idle; key used yesterday: fine
        ReportRow.iam_user(
            ACCOUNT,
            "bob",
            created=days(400),
            console=True,
            password_last_used=days(46),
            access_keys=(ReportKey(True, days(300), last_used=days(1)),),
        ),
        # password set 60 days ago and never used; key 1 never used but only 10 days old;
        # key 2 inactive (out of scope)
        ReportRow.iam_user(
            ACCOUNT,
            "carol",
            created=days(60),
            console=True,
            access_keys=(ReportKey(True, days(10)), ReportKey(False, days(50))),
        ),
        # exactly at the limit passes; a key never used for 200 days fails
        ReportRow.iam_user(
            ACCOUNT,
            "dana",
            created=days(500),
            console=True,
            password_last_used=days(45),
            access_keys=(ReportKey(True, days(200)),),
        ),
        ReportRow.iam_user(ACCOUNT, "no-credentials", created=days(900)),
    ]
    serve_credential_report(session, rows, generated_at=NOW)

    report = collect_aws(IamCredentialReport, session)

    assert report.root.password_last_used == days(90)
    assert report.root.access_keys[0].last_used == days(3)
    assert verdicts(root_access_keys_absent, report) == {(ROOT, False)}
    assert verdicts(root_recently_unused, report) == {(ROOT, False)}
    assert findings(root_recently_unused, report)[0].message == (
        "root access key 1 last used 2026-05-29, 3 days ago (within the 30-day window)"
    )
    assert verdicts(unused_credentials_disabled, report) == {
        (user_arn("bob") + "#password", False),
        (user_arn("bob") + "#key1", True),
        (user_arn("carol") + "#password", False),
        (user_arn("carol") + "#key1", True),
        (user_arn("dana") + "#password", True),
        (user_arn("dana") + "#key1", False),
    }
    messages = {f.resource: f.message for f in findings(unused_credentials_disabled, report)}
    assert messages[user_arn("carol") + "#password"] == (
        "console password of carol never used, set 2026-04-02, 60 days ago (over the 45-day limit)"
    )
    assert messages[user_arn("bob") + "#password"] == (
        "console password of bob last used 2026-04-16, 46 days ago (over the 45-day limit)"
    )


def test_root_without_keys_and_quiet_passes(session: boto3.Session) -> None:
    rows = [
        ReportRow.root(
            ACCOUNT,
            created=days(2000),
            mfa_active=True,
            password_last_used=days(31),
            access_keys=(ReportKey(False, days(700), last_used=days(600)),),  # deactivated
        ),
        ReportRow.iam_user(
            ACCOUNT, "erin", created=days(20), console=True, password_last_used=days(2)
        ),
    ]
    serve_credential_report(session, rows, generated_at=NOW)

    report = collect_aws(IamCredentialReport, session)

    assert verdicts(root_access_keys_absent, report) == {(ROOT, True)}
    assert verdicts(root_recently_unused, report) == {(ROOT, True)}
    assert verdicts(unused_credentials_disabled, report) == {(user_arn("erin") + "#password", True)}


def test_root_never_used_passes(session: boto3.Session) -> None:
    serve_credential_report(
        session, [ReportRow.root(ACCOUNT, created=days(9), mfa_active=True)], generated_at=NOW
    )
    report = collect_aws(IamCredentialReport, session)
    assert [(f.passed, f.message) for f in findings(root_recently_unused, report)] == [
        (True, "no root use on record")
    ]


# --- users and customer-managed policies (moto, AWS managed policies loaded) ---------------


@pytest.fixture
def iam_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    """moto with AWS managed policies loaded (AdministratorAccess must be attachable)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws(config={"iam": {"load_aws_managed_policies": True}}):
        yield boto3.Session(region_name="us-east-1")


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


EVERYTHING = {"Effect": "Allow", "Action": "*", "Resource": "*"}
READ_S3 = {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}


@pytest.fixture
def estate(iam_session: boto3.Session) -> None:
    iam = iam_session.client("iam")
    policies = {
        "break-glass": document({"Effect": "Allow", "Action": "*:*", "Resource": ["*"]}),
        "s3-read": document(READ_S3),
        # broad, but not * on *: NotAction, a Deny, a scoped resource
        "all-but-iam": document({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}),
        "deny-all": document({"Effect": "Deny", "Action": "*", "Resource": "*"}),
        "one-bucket": document(
            {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::reports/*"}
        ),
    }
    for name, text in policies.items():
        iam.create_policy(PolicyName=name, PolicyDocument=text)
    # admin in v1, narrowed in the default v2: only the default version counts
    iam.create_policy(PolicyName="was-admin", PolicyDocument=document(EVERYTHING))
    iam.create_policy_version(
        PolicyArn=policy_arn("was-admin"), PolicyDocument=document(READ_S3), SetAsDefault=True
    )
    for name in ("admin-direct", "admin-custom", "admin-inline", "reader", "team-member"):
        iam.create_user(UserName=name)
    iam.attach_user_policy(UserName="admin-direct", PolicyArn=ADMIN_ACCESS)
    iam.attach_user_policy(UserName="admin-custom", PolicyArn=policy_arn("break-glass"))
    iam.put_user_policy(
        UserName="admin-inline", PolicyName="ops", PolicyDocument=document(EVERYTHING)
    )
    iam.put_user_policy(
        UserName="admin-inline", PolicyName="read", PolicyDocument=document(READ_S3)
    )
    iam.attach_user_policy(UserName="reader", PolicyArn=policy_arn("s3-read"))
    iam.attach_user_policy(UserName="reader", PolicyArn=policy_arn("was-admin"))
    # admin through a group: not attached directly, so both user checks pass
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins", PolicyArn=ADMIN_ACCESS)
    iam.add_user_to_group(GroupName="admins", UserName="team-member")


def test_users_judged_on_directly_attached_and_inline_policies(
    iam_session: boto3.Session, estate: None
) -> None:
    users = collect_aws(IamUsers, iam_session)
    policies = collect_aws(IamCustomerPolicies, iam_session)

    assert verdicts(no_admin_policy_on_users, users, policies) == {
        (user_arn("admin-direct"), False),
        (user_arn("admin-custom"), False),
        (user_arn("admin-inline"), False),
        (user_arn("reader"), True),
        (user_arn("team-member"), True),
    }
    assert verdicts(users_permissions_via_groups, users) == {
        (user_arn("admin-direct"), False),
        (user_arn("admin-custom"), False),
        (user_arn("admin-inline"), False),
        (user_arn("reader"), False),
        (user_arn("team-member"), True),
    }
    admin = {f.resource: f.message for f in findings(no_admin_policy_on_users, users, policies)}
    assert admin[user_arn("admin-inline")] == (
        "admin-inline has full admin attached directly: ops (inline)"
    )
    assert admin[user_arn("admin-direct")] == (
        "admin-direct has full admin attached directly: AdministratorAccess"
    )
    direct = {f.resource: f.message for f in findings(users_permissions_via_groups, users)}
    assert direct[user_arn("reader")] == "reader has policies attached directly: s3-read, was-admin"


def test_customer_policies_judged_on_default_version(
    iam_session: boto3.Session, estate: None
) -> None:
    policies = collect_aws(IamCustomerPolicies, iam_session)

    assert verdicts(no_full_admin_customer_policies, policies) == {
        (policy_arn("break-glass"), False),
        (policy_arn("s3-read"), True),
        (policy_arn("all-but-iam"), True),
        (policy_arn("deny-all"), True),
        (policy_arn("one-bucket"), True),
        (policy_arn("was-admin"), True),
    }
    messages = {f.resource: f.message for f in findings(no_full_admin_customer_policies, policies)}
    assert messages[policy_arn("break-glass")] == "break-glass (v1, 1 attachments) allows * on *"
    assert messages[policy_arn("was-admin")] == (
        "was-admin (v2, 1 attachments) does not allow * on *"
    )


def test_no_users_and_no_policies_yield_no_findings(iam_session: boto3.Session) -> None:
    users = collect_aws(IamUsers, iam_session)
    policies = collect_aws(IamCustomerPolicies, iam_session)
    assert verdicts(no_admin_policy_on_users, users, policies) == set()
    assert verdicts(no_full_admin_customer_policies, policies) == set()


def test_access_denied_on_inline_policy_propagates(
    iam_session: boto3.Session, estate: None
) -> None:
    serve_wire(
        iam_session,
        "iam.GetUserPolicy",
        iam_error("AccessDenied", "not authorized to perform: iam:GetUserPolicy"),
        status=403,
    )
    with pytest.raises(ClientError) as caught:
        collect_aws(IamUsers, iam_session)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.operation_name == "GetUserPolicy"


# --- Access Analyzer (moto has no accessanalyzer: real REST-JSON answers) ------------------


def analyzer(region: str, name: str, kind: str, status: str) -> dict[str, str]:
    return {
        "arn": f"arn:aws:access-analyzer:{region}:{ACCOUNT}:analyzer/{name}",
        "name": name,
        "type": kind,
        "status": status,
        "createdAt": "2025-01-15T10:00:00Z",
    }


ANALYZERS = {
    "us-east-1": [
        analyzer("us-east-1", "unused", "ACCOUNT_UNUSED_ACCESS", "ACTIVE"),
        analyzer("us-east-1", "external", "ACCOUNT", "ACTIVE"),
    ],
    "eu-west-1": [
        analyzer("eu-west-1", "unused", "ACCOUNT_UNUSED_ACCESS", "ACTIVE"),
        analyzer("eu-west-1", "org", "ORGANIZATION", "DISABLED"),
    ],
    "ap-southeast-2": [],
}


def list_analyzers(region: str, request: Any) -> bytes:
    """One analyzer per page, with nextToken, as the service paginates."""
    token = parse_qs(urlsplit(request.url).query).get("nextToken", ["0"])[0]
    at = int(token)
    found = ANALYZERS[region]
    page: dict[str, Any] = {"analyzers": found[at : at + 1]}
    if at + 1 < len(found):
        page["nextToken"] = str(at + 1)
    return json.dumps(page).encode()


def analyzer_arn(region: str) -> str:
    return f"arn:aws:access-analyzer:{region}:{ACCOUNT}:analyzer"


def test_access_analyzer_judged_per_region(session: boto3.Session) -> None:
    serve_wire_by_region(session, "accessanalyzer.ListAnalyzers", list_analyzers)

    snapshots = {r: collect_aws(AccessAnalyzers, session, region=r) for r in ANALYZERS}

    assert [a.name for a in snapshots["us-east-1"].analyzers] == ["unused", "external"]
    assert {pair for s in snapshots.values() for pair in verdicts(access_analyzer_enabled, s)} == {
        (analyzer_arn("us-east-1"), True),
        (analyzer_arn("eu-west-1"), False),
        (analyzer_arn("ap-southeast-2"), False),
    }
    assert findings(access_analyzer_enabled, snapshots["eu-west-1"])[0].message == (
        "no active external-access analyzer in eu-west-1; found: "
        "unused (ACCOUNT_UNUSED_ACCESS, ACTIVE), org (ORGANIZATION, DISABLED)"
    )
    assert findings(access_analyzer_enabled, snapshots["ap-southeast-2"])[0].message == (
        "no Access Analyzer analyzer in ap-southeast-2"
    )


def test_access_denied_on_list_analyzers_propagates(session: boto3.Session) -> None:
    body = json.dumps(
        {
            "__type": "AccessDeniedException",
            "message": "not authorized to perform: access-analyzer:ListAnalyzers",
        }
    )
    serve_wire(
        session,
        "accessanalyzer.ListAnalyzers",
        body.encode(),
        status=403,
        content_type="application/json",
    )
    with pytest.raises(ClientError) as caught:
        collect_aws(AccessAnalyzers, session)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
