"""The S3 sweep's account block, TLS-only policies, versioning and access logging under moto."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from checks.aws.models import S3Bucket, S3Buckets
from checks.aws.s3 import (
    access_logging_enabled,
    account_public_access_block,
    tls_only_policy,
    versioning_enabled,
)
from checks.testing import findings, verdicts
from collector.testing import collect_aws
from tests.aws.test_s3 import ALL_ON, arn
from tests.aws.wire import ACCOUNT, s3_error, serve_wire

ACCOUNT_BLOCK = f"arn:aws:s3::{ACCOUNT}:account-public-access-block"


def tls_statement(bucket: str, **override: object) -> dict[str, object]:
    statement: dict[str, object] = {
        "Sid": "DenyPlainHttp",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [arn(bucket), arn(bucket) + "/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return statement | override


def put_policy(s3: object, bucket: str, *statements: dict[str, object]) -> None:
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))  # type: ignore[attr-defined]


@pytest.fixture
def estate(session: boto3.Session) -> None:
    s3 = session.client("s3")
    names = ("tls-only", "tls-wildcard", "allow-only", "objects-only", "no-policy", "access-logs")
    for name in names:
        s3.create_bucket(Bucket=name)
    put_policy(s3, "tls-only", tls_statement("tls-only"))
    put_policy(
        s3,
        "tls-wildcard",
        tls_statement(
            "tls-wildcard",
            Principal={"AWS": "*"},
            Action=["s3:GetObject", "S3:*"],
            Resource="arn:aws:s3:::tls-wild*",
            Condition={"BoolIfExists": {"aws:securetransport": ["false"]}},
        ),
    )
    allow = tls_statement(
        "allow-only", Effect="Allow", Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    )
    put_policy(s3, "allow-only", allow)
    put_policy(
        s3, "objects-only", tls_statement("objects-only", Resource=arn("objects-only") + "/*")
    )
    s3.put_bucket_versioning(Bucket="tls-only", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket="allow-only", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket="allow-only", VersioningConfiguration={"Status": "Suspended"})
    s3.put_bucket_acl(Bucket="access-logs", ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket="tls-only",
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "access-logs", "TargetPrefix": "tls/"}
        },
    )


def test_bucket_settings_judged_per_bucket(session: boto3.Session, estate: None) -> None:
    snapshot = collect_aws(S3Buckets, session)

    assert verdicts(tls_only_policy, snapshot) == {
        (arn("tls-only"), True),
        (arn("tls-wildcard"), True),
        (arn("allow-only"), False),
        (arn("objects-only"), False),
        (arn("no-policy"), False),
        (arn("access-logs"), False),
    }
    assert verdicts(versioning_enabled, snapshot) == {
        (arn("tls-only"), True),
        (arn("allow-only"), False),  # suspended
        (arn("tls-wildcard"), False),
        (arn("objects-only"), False),
        (arn("no-policy"), False),
        (arn("access-logs"), False),
    }
    assert verdicts(access_logging_enabled, snapshot) == {
        (arn(n), n == "tls-only")
        for n in (
            "tls-only",
            "tls-wildcard",
            "allow-only",
            "objects-only",
            "no-policy",
            "access-logs",
        )
    }
    by_bucket = {b.name: b for b in snapshot.buckets}
    assert by_bucket["tls-only"].access_log_target == "access-logs"
    assert by_bucket["allow-only"].versioning == "Suspended"
    assert by_bucket["no-policy"].policy is None
    messages = {f.resource: f.message for f in findings(tls_only_policy, snapshot)}
    assert messages[arn("no-policy")] == "no-policy has no bucket policy"
    versions = {f.resource: f.message for f in findings(versioning_enabled, snapshot)}
    assert versions[arn("no-policy")] == "versioning on no-policy: never enabled"


def test_account_public_access_block(session: boto3.Session) -> None:
    assert verdicts(account_public_access_block, collect_aws(S3Buckets, session)) == {
        (ACCOUNT_BLOCK, False)
    }
    control = session.client("s3control")
    partial = ALL_ON | {"RestrictPublicBuckets": False}
    control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=partial)
    [finding] = findings(account_public_access_block, collect_aws(S3Buckets, session))
    assert (finding.passed, finding.message) == (
        False,
        "account-level Block Public Access: RestrictPublicBuckets off",
    )
    control.put_public_access_block(AccountId=ACCOUNT, PublicAccessBlockConfiguration=ALL_ON)
    assert verdicts(account_public_access_block, collect_aws(S3Buckets, session)) == {
        (ACCOUNT_BLOCK, True)
    }


def test_no_such_bucket_policy_as_real_s3_answers_it(session: boto3.Session) -> None:
    session.client("s3").create_bucket(Bucket="plain")
    body = s3_error("NoSuchBucketPolicy", "The bucket policy does not exist", BucketName="plain")
    serve_wire(session, "s3.GetBucketPolicy", body, status=404, content_type="application/xml")
    snapshot = collect_aws(S3Buckets, session)
    assert verdicts(tls_only_policy, snapshot) == {(arn("plain"), False)}


def test_access_denied_on_bucket_policy_propagates(session: boto3.Session) -> None:
    session.client("s3").create_bucket(Bucket="plain")
    body = s3_error("AccessDenied", "Access Denied")
    serve_wire(session, "s3.GetBucketPolicy", body, status=403, content_type="application/xml")
    with pytest.raises(ClientError) as caught:
        collect_aws(S3Buckets, session)
    assert caught.value.operation_name == "GetBucketPolicy"


@pytest.mark.parametrize(
    "override",
    [
        {"Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        {"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}},
        {"Action": "s3:GetObject"},
        {"NotAction": "s3:ListBucket"},
        {"Condition": {"StringEquals": {"aws:SecureTransport": "false"}}},
    ],
)
def test_near_miss_statements_do_not_pass(override: dict[str, object]) -> None:
    bucket = S3Bucket(
        name="b",
        arn=arn("b"),
        public_access_block=None,
        default_encryption=None,
        policy={"Statement": tls_statement("b", **override)},  # a lone statement, not a list
        versioning=None,
        access_log_target=None,
    )
    snapshot = S3Buckets(account_id=ACCOUNT, account_public_access_block=None, buckets=(bucket,))
    assert verdicts(tls_only_policy, snapshot) == {(arn("b"), False)}
    exact = snapshot.model_copy(
        update={
            "buckets": (bucket.model_copy(update={"policy": {"Statement": tls_statement("b")}}),)
        }
    )
    assert verdicts(tls_only_policy, exact) == {(arn("b"), True)}
