"""S3 checks: public access, encryption, TLS-only policies, versioning, access logging."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from checks.api import Finding, check
from checks.aws.models import S3Bucket, S3Buckets

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


@check(
    id="aws.s3.account_public_access_block",
    title="The account-level S3 Block Public Access has all four settings on",
    severity="high",
    interval="6h",
    remediation="Turn on all four settings account-wide: aws s3control put-public-access-block "
    "--account-id <account> --public-access-block-configuration BlockPublicAcls=true,"
    "IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true.",
)
def account_public_access_block(snapshot: S3Buckets) -> Iterator[Finding]:
    """One finding for the account; a bucket-level block does not count here."""
    block = snapshot.account_public_access_block
    if block is None:
        message = "no account-level Block Public Access configured"
    elif block.blocks_all:
        message = "all four account-level Block Public Access settings on"
    else:
        message = "account-level Block Public Access: " + ", ".join(block.missing()) + " off"
    yield Finding(
        resource=f"arn:aws:s3::{snapshot.account_id}:account-public-access-block",
        passed=bool(block and block.blocks_all),
        message=message,
    )


@check(
    id="aws.s3.tls_only_policy",
    title="S3 bucket policies deny requests that do not use TLS",
    severity="medium",
    interval="24h",
    remediation="Add a bucket policy statement: Effect Deny, Principal *, Action s3:*, "
    "Resource the bucket and bucket/*, Condition Bool aws:SecureTransport false.",
)
def tls_only_policy(snapshot: S3Buckets) -> Iterator[Finding]:
    """A statement must deny everyone every S3 action on the bucket and its objects when
    ``aws:SecureTransport`` is false; no policy at all fails."""
    for bucket in snapshot.buckets:
        if bucket.policy is None:
            passed, message = False, f"{bucket.name} has no bucket policy"
        else:
            passed = any(_denies_plain_http(s, bucket) for s in _statements(bucket.policy))
            message = (
                f"{bucket.name} policy denies requests without TLS"
                if passed
                else f"{bucket.name} policy has no statement denying aws:SecureTransport=false"
            )
        yield Finding(resource=bucket.arn, passed=passed, message=message)


@check(
    id="aws.s3.versioning_enabled",
    title="S3 buckets have versioning enabled",
    severity="medium",
    interval="24h",
    remediation="Enable versioning (aws s3api put-bucket-versioning --versioning-configuration "
    "Status=Enabled) and add lifecycle rules to expire old versions.",
)
def versioning_enabled(snapshot: S3Buckets) -> Iterator[Finding]:
    """Suspended versioning fails: new writes overwrite objects again."""
    for bucket in snapshot.buckets:
        status = bucket.versioning or "never enabled"
        yield Finding(
            resource=bucket.arn,
            passed=bucket.versioning == "Enabled",
            message=f"versioning on {bucket.name}: {status}",
        )


@check(
    id="aws.s3.access_logging_enabled",
    title="S3 buckets have server access logging",
    severity="low",
    interval="24h",
    remediation="Enable server access logging to a dedicated log bucket "
    "(aws s3api put-bucket-logging), or record S3 data events in CloudTrail.",
)
def access_logging_enabled(snapshot: S3Buckets) -> Iterator[Finding]:
    """Each bucket logs requests to some target bucket."""
    for bucket in snapshot.buckets:
        target = bucket.access_log_target
        yield Finding(
            resource=bucket.arn,
            passed=target is not None,
            message=f"{bucket.name} logs access to {target}"
            if target
            else f"no server access logging on {bucket.name}",
        )


def _statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _denies_plain_http(statement: dict[str, Any], bucket: S3Bucket) -> bool:
    if statement.get("Effect") != "Deny" or "NotAction" in statement or "NotResource" in statement:
        return False
    principal = statement.get("Principal")
    if principal != "*" and not (
        isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"])
    ):
        return False
    actions = {str(a).lower() for a in _as_list(statement.get("Action", []))}
    if not actions & {"*", "s3:*"}:
        return False
    resources = _as_list(statement.get("Resource", []))
    if not all(
        any(_wildcard(r, target) for r in resources) for target in (bucket.arn, bucket.arn + "/*")
    ):
        return False
    return any(
        key.lower() == "aws:securetransport"
        and [str(v).lower() for v in _as_list(value)] == ["false"]
        for operator, condition in (statement.get("Condition") or {}).items()
        if operator in ("Bool", "BoolIfExists")
        for key, value in condition.items()
    )


def _wildcard(pattern: str, value: str) -> bool:
    """IAM resource matching: ``*`` any run of characters, ``?`` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in str(pattern))
    return re.fullmatch(regex, value) is not None


@check(
    id="aws.s3.lifecycle_expiration",
    title="S3 buckets delete data they no longer need by lifecycle rules",
    severity="low",
    interval="24h",
    remediation="Add a lifecycle rule that expires objects (and noncurrent versions) after the "
    "retention your policy sets (aws s3api put-bucket-lifecycle-configuration).",
)
def lifecycle_expiration(snapshot: S3Buckets) -> Iterator[Finding]:
    """Each bucket has at least one enabled rule that expires objects or noncurrent versions."""
    for bucket in snapshot.buckets:
        rules = ", ".join(bucket.expiry_rules)
        yield Finding(
            resource=bucket.arn,
            passed=bool(bucket.expiry_rules),
            message=f"{bucket.name} expires data by {rules}"
            if rules
            else f"{bucket.name} has no enabled expiration rule",
        )
