"""IAM collectors under moto (plus wire-served reports where moto falls short) and checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

import collector.aws.iam as iam_collector
from checks.aws.iam import (
    access_keys_rotated,
    console_users_mfa,
    password_policy_strong,
    root_mfa_enabled,
)
from checks.aws.models import IamCredentialReport, IamPasswordPolicy, PasswordPolicy
from checks.testing import findings, verdicts
from collector.aws.credential_report import ReportRow, report_csv
from collector.registry import load_registry
from collector.testing import collect_aws
from tests.aws.wire import ACCOUNT, ReportKey, iam_error, serve_credential_report, serve_wire

ROOT = f"arn:aws:iam::{ACCOUNT}:root"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def test_credential_report_from_moto_users_plus_served_root_row(session: boto3.Session) -> None:
    iam = session.client("iam")
    for name in ("alice", "bob", "carol"):
        iam.create_user(UserName=name)
    for name in ("alice", "bob"):
        iam.create_login_profile(UserName=name, Password="Correct-Horse-9!")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.create_access_key(UserName="carol")
    iam.generate_credential_report()
    moto_csv = iam.get_credential_report()["Content"].decode()
    # moto's report lacks the <root_account> row every real report has: serve it added
    root = ReportRow.root(ACCOUNT, created=NOW - timedelta(days=900), mfa_active=True)
    generated = datetime.now(UTC)
    serve_credential_report(session, moto_csv + report_csv([root], header=False), generated)

    report = collect_aws(IamCredentialReport, session)

    assert report.generated_at == generated.replace(microsecond=0)
    assert {e.user for e in report.entries} == {"<root_account>", "alice", "bob", "carol"}
    assert verdicts(root_mfa_enabled, report) == {(ROOT, True)}
    assert verdicts(console_users_mfa, report) == {
        (user_arn("alice"), True),
        (user_arn("bob"), False),
    }
    assert verdicts(access_keys_rotated, report) == {(user_arn("carol") + "#key1", True)}
    messages = {f.resource: f.message for f in findings(console_users_mfa, report)}
    assert messages[user_arn("bob")] == "MFA not enabled for console user bob"


def test_root_without_mfa_and_old_keys_from_wire_report(session: boto3.Session) -> None:
    rows = [
        ReportRow.root(
            ACCOUNT,
            created=NOW - timedelta(days=2000),
            mfa_active=False,
            access_keys=(ReportKey(True, NOW - timedelta(days=400)),),
        ),
        ReportRow.iam_user(
            ACCOUNT,
            "ci-deploy",
            created=NOW - timedelta(days=500),
            access_keys=(
                ReportKey(True, NOW - timedelta(days=91)),
                ReportKey(True, NOW - timedelta(days=90)),
            ),
        ),
        ReportRow.iam_user(
            ACCOUNT,
            "retired",
            created=NOW - timedelta(days=500),
            access_keys=(ReportKey(False, NOW - timedelta(days=300)),),
        ),
        ReportRow.iam_user(
            ACCOUNT, "dana", created=NOW - timedelta(days=30), console=True, mfa_active=True
        ),
    ]
    serve_credential_report(session, rows, generated_at=NOW)

    report = collect_aws(IamCredentialReport, session)

    assert report.generated_at == NOW
    assert verdicts(root_mfa_enabled, report) == {(ROOT, False)}
    assert verdicts(console_users_mfa, report) == {(user_arn("dana"), True)}
    assert verdicts(access_keys_rotated, report) == {
        (ROOT + "#key1", False),
        (user_arn("ci-deploy") + "#key1", False),
        (user_arn("ci-deploy") + "#key2", True),
    }
    by_resource = {f.resource: f.message for f in findings(access_keys_rotated, report)}
    assert by_resource[user_arn("ci-deploy") + "#key1"] == (
        "access key 1 of ci-deploy last rotated 2026-03-02, 91 days ago (over the 90-day limit)"
    )
    assert [f.message for f in findings(root_mfa_enabled, report)] == [
        "MFA not enabled for the root user"
    ]


def _by_check(report: IamCredentialReport) -> dict[str, str]:
    """Each registered check that reads the report: its status, or its error."""
    outcome = {}
    for spec in load_registry(entry_point_packs=False).checks.values():
        if spec.inputs != (IamCredentialReport,):
            continue
        try:
            found = spec.evaluate({IamCredentialReport: report})
        except ValueError as exc:
            outcome[spec.id] = f"error: {exc}"
        else:
            outcome[spec.id] = "fail" if any(not f.passed for f in found) else "judged"
    return outcome


def test_report_without_root_row_errors_only_the_root_checks(session: boto3.Session) -> None:
    rows = [ReportRow.iam_user(ACCOUNT, "alice", created=NOW, console=True, mfa_active=True)]
    serve_credential_report(session, rows, generated_at=NOW)
    report = collect_aws(IamCredentialReport, session)
    outcome = _by_check(report)
    errors = {check for check, said in outcome.items() if said.startswith("error")}
    assert errors == {
        "aws.iam.root_mfa_enabled",
        "aws.iam.root_access_keys_absent",
        "aws.iam.root_recently_unused",
        "aws.iam.access_keys_rotated",  # root's keys are among the keys it judges
    }
    assert outcome["aws.iam.root_mfa_enabled"] == (
        "error: credential report must have one <root_account> row, has 0"
    )
    assert outcome["aws.iam.console_users_mfa"] == "judged"


def test_malformed_user_row_errors_only_the_user_checks(session: boto3.Session) -> None:
    """One unreadable user row (a value AWS never writes) leaves the root checks judged."""
    rows = [
        ReportRow.root(ACCOUNT, created=NOW - timedelta(days=900), mfa_active=True),
        ReportRow.iam_user(ACCOUNT, "alice", created=NOW, console=True, mfa_active=True),
    ]
    lines = report_csv(rows).splitlines()
    lines[-1] = lines[-1].replace(",true,", ",maybe,", 1)  # password_enabled
    serve_credential_report(session, "\n".join(lines) + "\n", generated_at=NOW)
    report = collect_aws(IamCredentialReport, session)
    assert [(m.user, m.problem) for m in report.malformed] == [
        ("alice", "credential report: password_enabled='maybe' for alice is not a bool")
    ]
    outcome = _by_check(report)
    assert outcome["aws.iam.root_mfa_enabled"] == "judged"
    assert outcome["aws.iam.console_users_mfa"] == (
        "error: credential report: 1 user row(s) unreadable: alice: credential report: "
        "password_enabled='maybe' for alice is not a bool"
    )


def test_report_that_never_completes_times_out(
    session: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(iam_collector, "REPORT_POLL_DELAYS", (0, 0))
    started = (
        b'<GenerateCredentialReportResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        b"<GenerateCredentialReportResult><State>STARTED</State>"
        b"<Description>generating</Description></GenerateCredentialReportResult>"
        b"<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
        b"</GenerateCredentialReportResponse>"
    )
    serve_wire(session, "iam.GenerateCredentialReport", started)
    with pytest.raises(TimeoutError, match="STARTED"):
        collect_aws(IamCredentialReport, session)


def test_access_denied_on_credential_report_propagates(session: boto3.Session) -> None:
    body = iam_error(
        "AccessDenied",
        f"User: arn:aws:iam::{ACCOUNT}:user/auditor is not authorized to perform: "
        "iam:GetCredentialReport on resource: *",
    )
    serve_wire(session, "iam.GetCredentialReport", body, status=403)
    with pytest.raises(ClientError) as caught:
        collect_aws(IamCredentialReport, session)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.operation_name == "GetCredentialReport"


def test_no_password_policy_fails(session: boto3.Session) -> None:
    snapshot = collect_aws(IamPasswordPolicy, session)
    assert snapshot.policy is None
    assert verdicts(password_policy_strong, snapshot) == {(ROOT, False)}
    assert findings(password_policy_strong, snapshot)[0].message == (
        "no account password policy is set"
    )


def test_weak_password_policy_fails_naming_each_gap(session: boto3.Session) -> None:
    session.client("iam").update_account_password_policy(
        MinimumPasswordLength=8, RequireNumbers=True, RequireUppercaseCharacters=True
    )
    snapshot = collect_aws(IamPasswordPolicy, session)
    [finding] = findings(password_policy_strong, snapshot)
    assert (finding.resource, finding.passed) == (ROOT, False)
    assert finding.message == (
        "password policy too weak: minimum length 8 < 14; symbols not required; "
        "lower-case letters not required; reuse prevention 0 < 24; "
        "passwords never expire (limit 90 days)"
    )


def test_strong_password_policy_passes(session: boto3.Session) -> None:
    session.client("iam").update_account_password_policy(
        MinimumPasswordLength=16,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        PasswordReusePrevention=24,
        MaxPasswordAge=90,
    )
    snapshot = collect_aws(IamPasswordPolicy, session)
    assert verdicts(password_policy_strong, snapshot) == {(ROOT, True)}


def test_access_denied_on_password_policy_propagates(session: boto3.Session) -> None:
    serve_wire(
        session,
        "iam.GetAccountPasswordPolicy",
        iam_error("AccessDenied", "not authorized to perform: iam:GetAccountPasswordPolicy"),
        status=403,
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        collect_aws(IamPasswordPolicy, session)


@pytest.mark.parametrize(("max_age", "passed"), [(90, True), (91, False), (None, False)])
def test_password_age_threshold(max_age: int | None, passed: bool) -> None:
    policy = PasswordPolicy(
        minimum_password_length=14,
        require_symbols=True,
        require_numbers=True,
        require_uppercase_characters=True,
        require_lowercase_characters=True,
        password_reuse_prevention=24,
        max_password_age=max_age,
    )
    snapshot = IamPasswordPolicy(account_arn=ROOT, policy=policy)
    assert verdicts(password_policy_strong, snapshot) == {(ROOT, passed)}
