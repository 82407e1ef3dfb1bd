"""S3 checks: public access blocked and default encryption, per bucket."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.aws.models import S3Buckets

#: Default-encryption algorithms S3 reports; every one of them is encryption at rest.
ENCRYPTION_ALGORITHMS = frozenset({"AES256", "aws:kms", "aws:kms:dsse"})


@check(
    id="aws.s3.public_access_blocked",
    title="S3 buckets block all public access",
    severity="high",
    interval="6h",
    remediation="Turn on all four Block Public Access settings at the account level "
    "(s3control put-public-access-block), or on each bucket that must stay private.",
)
def public_access_blocked(snapshot: S3Buckets) -> Iterator[Finding]:
    """The effective block (bucket's OR account's) must have all four settings on."""
    account_all = bool(
        snapshot.account_public_access_block and snapshot.account_public_access_block.blocks_all
    )
    for bucket in snapshot.buckets:
        effective = snapshot.effective_public_access_block(bucket)
        if effective.blocks_all:
            via = "account-level block" if account_all else "bucket-level block"
            message = f"all four Block Public Access settings on for {bucket.name} ({via})"
        else:
            where = "" if bucket.public_access_block else "; no bucket-level block configured"
            message = (
                f"public access possible on {bucket.name}: "
                + ", ".join(effective.missing())
                + f" off{where}"
            )
        yield Finding(resource=bucket.arn, passed=effective.blocks_all, message=message)


@check(
    id="aws.s3.default_encryption",
    title="S3 buckets have default encryption",
    severity="medium",
    interval="24h",
    remediation="Set default encryption on the bucket (SSE-S3 at least; SSE-KMS with a "
    "customer managed key where key control matters).",
)
def default_encryption(snapshot: S3Buckets) -> Iterator[Finding]:
    """Each bucket's default encryption is SSE-S3, SSE-KMS or DSSE-KMS."""
    for bucket in snapshot.buckets:
        algorithm = bucket.default_encryption
        if algorithm is None:
            yield Finding(
                resource=bucket.arn,
                passed=False,
                message=f"no default encryption configured for {bucket.name}",
            )
        else:
            known = algorithm in ENCRYPTION_ALGORITHMS
            yield Finding(
                resource=bucket.arn,
                passed=known,
                message=f"{bucket.name} encrypts by default with {algorithm}"
                if known
                else f"{bucket.name} reports unknown default encryption {algorithm!r}",
            )
