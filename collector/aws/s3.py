"""S3 collector: the account's public access block and each bucket's protection settings."""

from __future__ import annotations

import json
from typing import Any

from checks.aws.models import S3_SETTINGS, PublicAccessBlock, S3Bucket, S3Buckets
from collector.aws.paging import each, pages
from collector.aws.scope import AwsScope
from collector.collect import collects

#: Documented "not configured" answers: facts (they fail), not unknowns.
NO_BLOCK = "NoSuchPublicAccessBlockConfiguration"
NO_ENCRYPTION = "ServerSideEncryptionConfigurationNotFoundError"
NO_POLICY = "NoSuchBucketPolicy"
NO_LIFECYCLE = "NoSuchLifecycleConfiguration"


@collects(
    S3Buckets,
    permissions=[
        "s3:ListAllMyBuckets",
        "s3:GetAccountPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetEncryptionConfiguration",
        "s3:GetBucketPolicy",
        "s3:GetBucketVersioning",
        "s3:GetBucketLogging",
        "s3:GetLifecycleConfiguration",
    ],
    parts={
        "aws.s3.public_access_blocked": ["account_block", "public_access_block"],
        "aws.s3.account_public_access_block": ["account_block"],
        "aws.s3.default_encryption": ["encryption"],
        "aws.s3.tls_only_policy": ["policy"],
        "aws.s3.versioning_enabled": ["versioning"],
        "aws.s3.access_logging_enabled": ["logging"],
        "aws.s3.lifecycle_expiration": ["lifecycle"],
    },
    fan_out=True,
)
def s3_buckets(scope: AwsScope) -> S3Buckets:
    """List buckets once (paginated) and read, per bucket, the settings this run judges
    (one call each: ``aws.s3.default_encryption`` alone costs one call per bucket).

    Versioning and logging have no "not configured" error: S3 answers without ``Status`` /
    ``LoggingEnabled``. A missing bucket policy is S3's documented ``NoSuchBucketPolicy``.
    """
    read = scope.parts(S3Buckets)
    s3 = scope.client("s3")
    account_block = None
    if "account_block" in read:
        account_block = absent_as_none(
            NO_BLOCK,
            lambda: scope.client("s3control").get_public_access_block(AccountId=scope.account_id),
        )
    names = [b["Name"] for b in pages(s3, "list_buckets", "Buckets")]
    buckets = each(lambda name: _bucket(s3, name, read), names)
    return S3Buckets(
        account_id=scope.account_id,
        account_public_access_block=_block(account_block),
        buckets=tuple(buckets),
        read=tuple(part for part in S3_SETTINGS if part in read),
    )


def _bucket(s3: Any, name: str, read: frozenset[str]) -> S3Bucket:
    """One bucket's settings in ``read``: one getter each, an answer or a documented absence."""
    block = encryption = policy = lifecycle = None
    versioning = logging = {}
    if "public_access_block" in read:
        block = absent_as_none(NO_BLOCK, lambda: s3.get_public_access_block(Bucket=name))
    if "encryption" in read:
        encryption = absent_as_none(NO_ENCRYPTION, lambda: s3.get_bucket_encryption(Bucket=name))
    if "policy" in read:
        policy = absent_as_none(NO_POLICY, lambda: s3.get_bucket_policy(Bucket=name))
    if "versioning" in read:
        versioning = s3.get_bucket_versioning(Bucket=name)
    if "logging" in read:
        logging = s3.get_bucket_logging(Bucket=name).get("LoggingEnabled") or {}
    if "lifecycle" in read:
        lifecycle = absent_as_none(
            NO_LIFECYCLE, lambda: s3.get_bucket_lifecycle_configuration(Bucket=name)
        )
    return S3Bucket(
        name=name,
        arn=f"arn:aws:s3:::{name}",
        public_access_block=_block(block),
        default_encryption=_algorithm(encryption),
        policy=json.loads(policy["Policy"]) if policy else None,
        versioning=versioning.get("Status"),
        access_log_target=logging.get("TargetBucket") or None,
        expiry_rules=_expiry_rules(lifecycle),
    )


def _expiry_rules(answer: dict[str, Any] | None) -> tuple[str, ...]:
    """Enabled rules that delete current objects (Expiration Days/Date) or noncurrent
    versions (NoncurrentVersionExpiration); a delete-marker-only cleanup deletes no data."""
    found = []
    for rule in (answer or {}).get("Rules", ()):
        if rule.get("Status") != "Enabled":
            continue
        current = {"Days", "Date"} & set(rule.get("Expiration") or {})
        if current or rule.get("NoncurrentVersionExpiration"):
            found.append(rule.get("ID") or "(unnamed rule)")
    return tuple(found)


def absent_as_none(absent_code: str, call: Any) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == absent_code:
            return None
        raise


def _block(response: dict[str, Any] | None) -> PublicAccessBlock | None:
    if response is None:
        return None
    config = response["PublicAccessBlockConfiguration"]
    return PublicAccessBlock(
        block_public_acls=config.get("BlockPublicAcls", False),
        ignore_public_acls=config.get("IgnorePublicAcls", False),
        block_public_policy=config.get("BlockPublicPolicy", False),
        restrict_public_buckets=config.get("RestrictPublicBuckets", False),
    )


def _algorithm(response: dict[str, Any] | None) -> str | None:
    if response is None:
        return None
    for rule in response["ServerSideEncryptionConfiguration"].get("Rules", []):
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm"):
            return str(default["SSEAlgorithm"])
    return None
