"""S3 collector under moto (and real wire answers moto lacks) and the S3 checks."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from checks.aws.models import S3Bucket, S3Buckets
from checks.aws.s3 import default_encryption, public_access_blocked
from checks.testing import findings, verdicts
from collector.testing import collect_aws
from tests.aws.wire import ACCOUNT, s3_error, serve_wire

ALL_ON = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def arn(bucket: str) -> str:
    return f"arn:aws:s3:::{bucket}"


def encrypt(s3: object, bucket: str, algorithm: str) -> None:
    default = {"SSEAlgorithm": algorithm}
    if algorithm.startswith("aws:kms"):
        default["KMSMasterKeyID"] = "alias/aws/s3"
    s3.put_bucket_encryption(  # type: ignore[attr-defined]
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default}]
        },
    )


@pytest.fixture
def estate(session: boto3.Session) -> None:
    s3 = session.client("s3")
    for name in ("locked-reports", "kms-archive", "open-website"):
        s3.create_bucket(Bucket=name)
    eu = session.client("s3", region_name="eu-west-1")
    eu.create_bucket(
        Bucket="eu-exports", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    s3.put_public_access_block(Bucket="locked-reports", PublicAccessBlockConfiguration=ALL_ON)
    s3.put_public_access_block(Bucket="eu-exports", PublicAccessBlockConfiguration=ALL_ON)
    s3.put_public_access_block(
        Bucket="kms-archive", PublicAccessBlockConfiguration={"BlockPublicAcls": True}
    )
    encrypt(s3, "locked-reports", "AES256")
    encrypt(s3, "kms-archive", "aws:kms")
    encrypt(s3, "eu-exports", "aws:kms:dsse")
    # open-website: no block, and moto answers the legacy "no default encryption" error


def test_buckets_judged_per_bucket(session: boto3.Session, estate: None) -> None:
    snapshot = collect_aws(S3Buckets, session)

    assert snapshot.account_public_access_block is None
    assert verdicts(public_access_blocked, snapshot) == {
        (arn("locked-reports"), True),
        (arn("eu-exports"), True),
        (arn("kms-archive"), False),
        (arn("open-website"), False),
    }
    assert verdicts(default_encryption, snapshot) == {
        (arn("locked-reports"), True),
        (arn("kms-archive"), True),
        (arn("eu-exports"), True),
        (arn("open-website"), False),
    }
    messages = {f.resource: f.message for f in findings(public_access_blocked, snapshot)}
    assert messages[arn("kms-archive")] == (
        "public access possible on kms-archive: "
        "IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets off"
    )
    assert messages[arn("open-website")].endswith("off; no bucket-level block configured")
    encryption = {f.resource: f.message for f in findings(default_encryption, snapshot)}
    assert encryption[arn("open-website")] == "no default encryption configured for open-website"


def test_account_level_block_covers_every_bucket(session: boto3.Session, estate: None) -> None:
    session.client("s3control").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration=ALL_ON
    )
    snapshot = collect_aws(S3Buckets, session)

    assert snapshot.account_public_access_block is not None
    assert verdicts(public_access_blocked, snapshot) == {
        (arn(name), True)
        for name in ("locked-reports", "eu-exports", "kms-archive", "open-website")
    }
    messages = {f.resource: f.message for f in findings(public_access_blocked, snapshot)}
    assert messages[arn("open-website")].endswith("(account-level block)")


def test_no_buckets_yields_no_findings(session: boto3.Session) -> None:
    snapshot = collect_aws(S3Buckets, session)
    assert snapshot.buckets == ()
    assert verdicts(public_access_blocked, snapshot) == set()
    assert verdicts(default_encryption, snapshot) == set()


def test_sse_s3_default_as_real_s3_answers_it(session: boto3.Session) -> None:
    # Since January 2023 S3 answers every bucket without explicit settings like this.
    session.client("s3").create_bucket(Bucket="plain-bucket")
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><ServerSideEncryptionConfiguration xmlns="{S3_NS}">'
        "<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm>"
        "</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule>"
        "</ServerSideEncryptionConfiguration>"
    ).encode()
    serve_wire(session, "s3.GetBucketEncryption", body, content_type="application/xml")

    snapshot = collect_aws(S3Buckets, session)

    assert snapshot.buckets[0].default_encryption == "AES256"
    assert verdicts(default_encryption, snapshot) == {(arn("plain-bucket"), True)}


def test_legacy_no_encryption_error_as_real_s3_answered_it(session: boto3.Session) -> None:
    session.client("s3").create_bucket(Bucket="old-bucket")
    body = s3_error(
        "ServerSideEncryptionConfigurationNotFoundError",
        "The server side encryption configuration was not found",
        BucketName="old-bucket",
    )
    serve_wire(session, "s3.GetBucketEncryption", body, status=404, content_type="application/xml")

    snapshot = collect_aws(S3Buckets, session)

    assert snapshot.buckets[0].default_encryption is None
    assert verdicts(default_encryption, snapshot) == {(arn("old-bucket"), False)}


def test_access_denied_on_bucket_block_propagates(session: boto3.Session, estate: None) -> None:
    body = s3_error("AccessDenied", "Access Denied")
    serve_wire(session, "s3.GetPublicAccessBlock", body, status=403, content_type="application/xml")
    with pytest.raises(ClientError) as caught:
        collect_aws(S3Buckets, session)
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.operation_name == "GetPublicAccessBlock"


def test_access_denied_on_account_block_propagates(session: boto3.Session) -> None:
    serve_wire(
        session,
        "s3-control.GetPublicAccessBlock",
        s3_error("AccessDenied", "Access Denied"),
        status=403,
        content_type="application/xml",
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        collect_aws(S3Buckets, session)


def test_unknown_encryption_algorithm_is_not_a_pass() -> None:
    snapshot = S3Buckets(
        account_id=ACCOUNT,
        account_public_access_block=None,
        buckets=(
            S3Bucket(
                name="odd",
                arn=arn("odd"),
                public_access_block=None,
                default_encryption="ROT13",
                policy=None,
                versioning=None,
                access_log_target=None,
            ),
        ),
    )
    assert verdicts(default_encryption, snapshot) == {(arn("odd"), False)}
