"""A small, realistic AWS estate for ``annexa demo``: some resources compliant, some not.

:func:`seed` creates it through boto3 inside an active moto ``mock_aws``; moto is never
imported here. :func:`install_wire_hooks` serves, in AWS's wire format, what moto cannot
simulate: the credential report's ``<root_account>`` row (root MFA off) and backdated key
rotation dates. Both are built from :data:`DEMO_USERS`, the same facts :func:`seed` creates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import boto3

from collector.aws.credential_report import (
    ReportKey,
    ReportRow,
    credential_report_body,
    report_csv,
    serve_wire,
)

__all__ = ["DEMO_BUCKETS", "DEMO_USERS", "install_wire_hooks", "seed"]


@dataclass(frozen=True)
class DemoUser:
    name: str
    age_days: int
    console: bool = False
    mfa: bool = False
    key_age_days: int | None = None  # one active access key, last rotated this long ago


@dataclass(frozen=True)
class DemoBucket:
    name: str
    block_all: bool = False
    block_acls_only: bool = False
    encryption: str | None = None  # SSEAlgorithm, or None for the legacy "not configured"


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("alice", age_days=700, console=True, mfa=True),
    DemoUser("bob", age_days=400, console=True),  # console without MFA
    DemoUser("ci-deploy", age_days=600, key_age_days=200),  # key far past 90 days
    DemoUser("erin", age_days=120, console=True, mfa=True, key_age_days=20),
)
TRAIL_BUCKET = "acme-cloudtrail-logs"
DEMO_BUCKETS: tuple[DemoBucket, ...] = (
    DemoBucket(TRAIL_BUCKET, block_all=True, encryption="AES256"),
    DemoBucket("acme-finance-reports", block_all=True, encryption="aws:kms"),
    DemoBucket("acme-app-logs", block_all=True, encryption="AES256"),
    DemoBucket("acme-public-website"),  # no block, no default encryption
    DemoBucket("acme-legacy-exports", block_acls_only=True, encryption="AES256"),
)
ROOT_AGE_DAYS = 2000
#: The region where EBS encryption by default is on; every other region leaves it off.
EBS_ENCRYPTED_REGION = "us-east-1"
_DEMO_PASSWORD = "Demo-only-Passw0rd!"


def seed(session: boto3.Session) -> None:
    """Create the demo estate (call inside an active moto ``mock_aws``); S3 before trails."""
    _seed_iam(session)
    _seed_s3(session)
    _seed_cloudtrail(session)
    session.client("ec2", region_name=EBS_ENCRYPTED_REGION).enable_ebs_encryption_by_default()


def install_wire_hooks(
    session: boto3.Session, *, account: str | None = None, now: datetime | None = None
) -> None:
    """Serve the demo's credential report (root MFA off, old keys) to clients made from now on.

    ``account`` defaults to the caller identity's; ``now`` (aware UTC) to the current time.
    """
    now = now or datetime.now(UTC)
    if account is None:
        account = session.client("sts").get_caller_identity()["Account"]
    rows = [ReportRow.root(account, created=now - timedelta(days=ROOT_AGE_DAYS), mfa_active=False)]
    for user in DEMO_USERS:
        keys = ()
        if user.key_age_days is not None:
            keys = (ReportKey(True, now - timedelta(days=user.key_age_days)),)
        rows.append(
            ReportRow.iam_user(
                account,
                user.name,
                created=now - timedelta(days=user.age_days),
                console=user.console,
                mfa_active=user.mfa,
                access_keys=keys,
            )
        )
    body = credential_report_body(report_csv(rows), now)
    serve_wire(session, "iam.GetCredentialReport", body)


def _seed_iam(session: boto3.Session) -> None:
    iam = session.client("iam")
    for user in DEMO_USERS:
        iam.create_user(UserName=user.name)
        if user.console:
            iam.create_login_profile(UserName=user.name, Password=_DEMO_PASSWORD)
        if user.mfa:
            device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user.name)
            iam.enable_mfa_device(
                UserName=user.name,
                SerialNumber=device["VirtualMFADevice"]["SerialNumber"],
                AuthenticationCode1="123456",
                AuthenticationCode2="654321",
            )
        if user.key_age_days is not None:
            iam.create_access_key(UserName=user.name)
    # too short, no symbols, no reuse prevention, no expiry
    iam.update_account_password_policy(
        MinimumPasswordLength=8,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
    )


def _seed_s3(session: boto3.Session) -> None:
    s3 = session.client("s3")
    for bucket in DEMO_BUCKETS:
        s3.create_bucket(Bucket=bucket.name)
        if bucket.block_all or bucket.block_acls_only:
            on = bucket.block_all
            s3.put_public_access_block(
                Bucket=bucket.name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": on,
                    "RestrictPublicBuckets": on,
                },
            )
        if bucket.encryption:
            default = {"SSEAlgorithm": bucket.encryption}
            if bucket.encryption.startswith("aws:kms"):
                default["KMSMasterKeyID"] = "alias/aws/s3"
            s3.put_bucket_encryption(
                Bucket=bucket.name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": default}]
                },
            )


def _seed_cloudtrail(session: boto3.Session) -> None:
    cloudtrail = session.client("cloudtrail")
    # the organisation's multi-region trail logs (A.8.15/A.8.16 pass); a dev trail was stopped
    cloudtrail.create_trail(
        Name="acme-org-trail", S3BucketName=TRAIL_BUCKET, IsMultiRegionTrail=True
    )
    cloudtrail.start_logging(Name="acme-org-trail")
    cloudtrail.create_trail(Name="acme-dev-trail", S3BucketName=TRAIL_BUCKET)
