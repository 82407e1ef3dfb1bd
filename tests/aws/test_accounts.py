"""Accounts by profile, by role ARN and by AWS Organizations discovery, across regions, under
moto (which maps an assumed role's credentials to the role's account) and a real Runner."""

from __future__ import annotations

import boto3
import pytest
from botocore.credentials import DeferredRefreshableCredentials

from checks.aws.models import S3Buckets
from collector.aws.accounts import resolve_accounts
from collector.aws.permissions import policy_document
from collector.registry import load_registry
from collector.runner import Runner
from collector.settings import AwsSettings
from storage import EvidenceStore
from tests.aws.errors import CallLog, request_params, serve_error
from tests.aws.wire import ACCOUNT

REGIONS = ["us-east-1", "eu-west-1"]
ROLE = "AnnexaAudit"
POLLED = frozenset({"GenerateCredentialReport"})


def role(account: str, name: str = ROLE) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def deny_assume_role(session: boto3.Session, account: str) -> None:
    """STS answers AccessDenied, as AWS does when the role's trust policy refuses the caller."""
    arn = role(account)
    serve_error(
        session,
        "before-send.sts.AssumeRole",
        "AccessDenied",
        f"User: arn:aws:iam::{ACCOUNT}:user/moto is not authorized to perform: "
        f"sts:AssumeRole on resource: {arn}",
        status=403,
        when=lambda request: request_params(request).get("RoleArn") == [arn],
    )


@pytest.fixture
def organization(session: boto3.Session) -> tuple[str, str]:
    """An organization: the management account (moto's default) and two members."""
    org = session.client("organizations")
    org.create_organization(FeatureSet="ALL")
    members = []
    for name in ("workloads", "sandbox"):
        created = org.create_account(Email=f"{name}@example.com", AccountName=name)
        members.append(created["CreateAccountStatus"]["AccountId"])
    return members[0], members[1]


def member_session(account: str) -> boto3.Session:
    """A session in a member account (for seeding), through the same role annexa assumes."""
    sts = boto3.client("sts", region_name="us-east-1")
    creds = sts.assume_role(RoleArn=role(account), RoleSessionName="seed")["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    )


def test_organization_run_covers_each_account_and_region_once(
    session: boto3.Session, organization: tuple[str, str], store: EvidenceStore
) -> None:
    workloads, sandbox = organization
    session.client("s3").create_bucket(Bucket="mgmt-billing")
    member = member_session(workloads)
    member.client("s3").create_bucket(Bucket="workloads-data")
    member.client("ec2", region_name="eu-west-1").enable_ebs_encryption_by_default()
    deny_assume_role(session, sandbox)
    settings = AwsSettings.model_validate({"organization": {"role_name": ROLE}, "regions": REGIONS})

    accounts = resolve_accounts(settings, session)
    calls = CallLog()
    for account in accounts:
        if account.make_scope is not None:
            calls.watch(account.make_scope.session, account.account)
    registry = load_registry(entry_point_packs=False)
    checks = registry.select(provider="aws")
    result = Runner(registry, store, concurrency=8).run(checks, accounts)

    assert [a.account for a in accounts] == [ACCOUNT, workloads, sandbox]
    assert [a.regions for a in accounts] == [tuple(REGIONS), tuple(REGIONS), ()]
    expected = set()
    for spec in checks:
        regional = registry.scope_of(spec) == "region"
        for account in (ACCOUNT, workloads):
            for region in REGIONS if regional else [None]:
                expected.add((spec.id, account, region))
        expected.add((spec.id, sandbox, None))  # unreachable: one ERROR per check
    got = [(r.check_id, r.account, r.region) for r in result.records]
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert result.outcome == "partial"

    by_key = {(r.check_id, r.account, r.region): r for r in result.records}
    cause = (
        f"cannot assume {role(sandbox)}: access denied: sts:AssumeRole (AccessDenied on AssumeRole)"
    )
    assert {r.error for r in result.records if r.account == sandbox} == {cause}
    assert all(r.status == "error" for r in result.records if r.account == sandbox)
    # each account's checks saw that account's resources, through its own credentials
    s3 = "aws.s3.public_access_blocked"
    assert {f["resource"] for f in by_key[s3, ACCOUNT, None].findings} == {
        "arn:aws:s3:::mgmt-billing"
    }
    assert {f["resource"] for f in by_key[s3, workloads, None].findings} == {
        "arn:aws:s3:::workloads-data"
    }
    ebs = "aws.ec2.ebs_encryption_by_default"
    assert {(a, r): by_key[ebs, a, r].status for a in (ACCOUNT, workloads) for r in REGIONS} == {
        (ACCOUNT, "us-east-1"): "fail",
        (ACCOUNT, "eu-west-1"): "fail",
        (workloads, "us-east-1"): "fail",
        (workloads, "eu-west-1"): "pass",
    }

    # global snapshots once per account, regional ones once per (account, region) ...
    for account in (ACCOUNT, workloads):
        assert calls.count("ListBuckets", account) == 1
        assert calls.count("DescribeTrails", account) == 1
        assert calls.count("GetAccountPasswordPolicy", account) == 1
        for region in REGIONS:
            assert calls.count("GetEbsEncryptionByDefault", account, region) == 1
    # ... and no call is ever repeated with the same arguments in the same account and region
    assert calls.repeated(allowed=POLLED) == {}
    assert not [c for c in calls.calls if c.account == sandbox]


def test_role_arn_accounts_use_external_id_session_name_and_refreshable_credentials(
    session: boto3.Session,
) -> None:
    sent: list[dict[str, object]] = []
    session.events.register(
        "before-parameter-build.sts.AssumeRole", lambda params, **_: sent.append(dict(params))
    )
    settings = AwsSettings.model_validate(
        {
            "accounts": [
                {},
                {
                    "role_arn": role("222233334444", "Audit"),
                    "external_id": "annexa-7f3c",
                    "session_name": "iso-audit",
                },
            ],
            "regions": "session",
        }
    )

    accounts = resolve_accounts(settings, session)

    assert [(a.account, a.regions, a.error) for a in accounts] == [
        (ACCOUNT, ("us-east-1",), None),
        ("222233334444", ("us-east-1",), None),
    ]
    assert sent == [
        {
            "RoleArn": role("222233334444", "Audit"),
            "ExternalId": "annexa-7f3c",
            "RoleSessionName": "iso-audit",
        }
    ]
    assumed = accounts[1].make_scope.session  # type: ignore[union-attr]
    credentials = assumed.get_credentials()
    assert isinstance(credentials, DeferredRefreshableCredentials)
    assert credentials.method == "assume-role"
    identity = assumed.client("sts").get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::222233334444:assumed-role/Audit/iso-audit"
    assert len(sent) == 1  # assumed once; botocore reassumes only near expiry


def test_include_exclude_and_an_included_account_outside_the_organization(
    session: boto3.Session, organization: tuple[str, str]
) -> None:
    workloads, sandbox = organization
    settings = AwsSettings.model_validate(
        {
            "organization": {
                "role_name": ROLE,
                "include": [workloads, sandbox, "999999999999"],
                "exclude": [sandbox],
            }
        }
    )

    accounts = resolve_accounts(settings, session)

    assert [(a.account, a.error) for a in accounts] == [
        (workloads, None),
        ("999999999999", "account 999999999999 is not an ACTIVE member of the organization"),
    ]


def test_listing_the_organization_denied_is_one_error_account(session: boto3.Session) -> None:
    serve_error(
        session,
        "before-send.organizations.ListAccounts",
        "AccessDeniedException",
        "You don't have permissions to access this resource.",
        status=400,
    )
    settings = AwsSettings.model_validate({"organization": {}})

    (account,) = resolve_accounts(settings, session)

    assert account.account == "organization"
    assert account.error == (
        "cannot list the organization's accounts: access denied: organizations:ListAccounts "
        "(AccessDeniedException on ListAccounts)"
    )


@pytest.mark.parametrize("regions", ["all", None, "default"])
def test_all_regions_are_the_enabled_regions(session: boto3.Session, regions) -> None:
    """``all``, ``null`` and no setting at all: every enabled region, not just the session's."""
    enabled = session.client("ec2").describe_regions(AllRegions=False)["Regions"]
    settings = AwsSettings() if regions == "default" else AwsSettings(regions=regions)

    (account,) = resolve_accounts(settings, session)

    assert account.regions == tuple(sorted(r["RegionName"] for r in enabled))
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(account.regions)
    assert "ec2:DescribeRegions" in policy_document([], settings)["Statement"][0]["Action"]


def test_session_region_only_when_asked(session: boto3.Session) -> None:
    (account,) = resolve_accounts(AwsSettings(regions="session"), session)
    assert account.regions == (session.region_name,)


def test_one_collector_call_serves_both_regions_of_a_global_snapshot(
    session: boto3.Session, store: EvidenceStore
) -> None:
    session.client("s3").create_bucket(Bucket="only-bucket")
    (account,) = resolve_accounts(AwsSettings(regions=REGIONS), session)
    calls = CallLog()
    calls.watch(session, account.account)
    registry = load_registry(entry_point_packs=False)
    s3_checks = [c for c in registry.select(provider="aws") if S3Buckets in c.inputs]

    result = Runner(registry, store).run(s3_checks, [account])

    assert len(s3_checks) >= 2 and len(result.records) == len(s3_checks)
    assert {r.region for r in result.records} == {None}
    assert calls.count("ListBuckets", ACCOUNT) == 1
