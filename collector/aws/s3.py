"""S3 collector: the account's public access block and each bucket's protection settings."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from checks.aws.models import PublicAccessBlock, S3Bucket, S3Buckets
from collector.aws.scope import AwsScope
from collector.collect import collects

#: Documented "not configured" answers: facts (they fail), not unknowns.
NO_BLOCK = "NoSuchPublicAccessBlockConfiguration"
NO_ENCRYPTION = "ServerSideEncryptionConfigurationNotFoundError"
NO_POLICY = "NoSuchBucketPolicy"


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
    ],
)
def s3_buckets(scope: AwsScope) -> S3Buckets:
    """List buckets once (paginated) and read each one's settings.

    Versioning and logging have no "not configured" error: S3 answers without ``Status`` /
    ``LoggingEnabled``. A missing bucket policy is S3's documented ``NoSuchBucketPolicy``.
    """
    s3 = scope.client("s3")
    account_block = _absent_as_none(
        NO_BLOCK,
        lambda: scope.client("s3control").get_public_access_block(AccountId=scope.account_id),
    )
    buckets = []
    for page in s3.get_paginator("list_buckets").paginate():
        for listed in page.get("Buckets", []):
            name = listed["Name"]
            block = _absent_as_none(NO_BLOCK, lambda n=name: s3.get_public_access_block(Bucket=n))
            encryption = _absent_as_none(
                NO_ENCRYPTION, lambda n=name: s3.get_bucket_encryption(Bucket=n)
            )
            policy = _absent_as_none(NO_POLICY, lambda n=name: s3.get_bucket_policy(Bucket=n))
            versioning = s3.get_bucket_versioning(Bucket=name).get("Status")
            logging = s3.get_bucket_logging(Bucket=name).get("LoggingEnabled") or {}
            buckets.append(
                S3Bucket(
                    name=name,
                    arn=f"arn:aws:s3:::{name}",
                    public_access_block=_block(block),
                    default_encryption=_algorithm(encryption),
                    policy=json.loads(policy["Policy"]) if policy else None,
                    versioning=versioning,
                    access_log_target=logging.get("TargetBucket") or None,
                )
            )
    return S3Buckets(
        account_id=scope.account_id,
        account_public_access_block=_block(account_block),
        buckets=tuple(buckets),
    )


def _absent_as_none(absent_code: str, call: Any) -> dict[str, Any] | None:
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
