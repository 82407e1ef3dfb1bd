"""CloudTrail checks: account activity is logged in every region, and the logs are protected.

The per-trail checks judge every trail the snapshot holds: all multi-region trails plus the
single-region trails homed in the account's home region (trails homed elsewhere are not seen
from there). Stopped trails are judged too: they can be restarted as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import CloudTrailTrails, Trail, _AwsSnapshot

#: CloudWatch Logs delivery older than this (before collection) fails
#: ``aws.cloudtrail.cloudwatch_integration``.
MAX_CLOUDWATCH_DELIVERY_AGE = timedelta(hours=24)


def _all_management_events(trail: Trail) -> bool:
    return trail.management_reads and trail.management_writes and not trail.management_excluded


@check(
    id="aws.cloudtrail.multi_region_logging",
    title="A multi-region CloudTrail trail is logging all management events",
    severity="high",
    interval="6h",
    version=2,
    remediation="Create a multi-region trail (or an organization trail), start logging, and "
    "record all management events, read and write, with no excluded event source; the "
    "resource is the account, arn:aws:iam::<account>:root.",
)
def multi_region_logging(snapshot: CloudTrailTrails) -> Iterator[Finding]:
    """One finding for the account: passes when some trail is multi-region, logging, and its
    event selectors record every management event (read and write, no source excluded)."""
    good = [
        t
        for t in snapshot.trails
        if t.is_multi_region and t.is_logging and _all_management_events(t)
    ]
    if good:
        message = "multi-region trail logging: " + ", ".join(t.name for t in good)
    elif snapshot.trails:
        message = "no multi-region trail is logging; trails found: " + ", ".join(
            _describe(t) for t in snapshot.trails
        )
    else:
        message = "no CloudTrail trail exists"
    yield Finding(resource=snapshot.account_arn, passed=bool(good), message=message)


def _describe(trail: Trail) -> str:
    reach = "multi-region" if trail.is_multi_region else f"single-region {trail.home_region}"
    state = "logging" if trail.is_logging else "stopped"
    kinds = [
        k for k, on in (("read", trail.management_reads), ("write", trail.management_writes)) if on
    ]
    if not kinds:
        events = "no management events"
    elif len(kinds) == 1:
        events = f"{kinds[0]} management events only"
    else:
        events = "all management events"
    if trail.management_excluded:
        events += f" except {', '.join(trail.management_excluded)}"
    return f"{trail.name} ({reach}, {state}, {events})"


@check(
    id="aws.cloudtrail.log_file_validation",
    title="CloudTrail trails have log file validation enabled",
    severity="medium",
    interval="24h",
    remediation="Enable log file integrity validation on the trail "
    "(cloudtrail update-trail --enable-log-file-validation) so digest files prove that "
    "delivered log files were not modified or deleted.",
)
def log_file_validation(snapshot: CloudTrailTrails) -> Iterator[Finding]:
    """One finding per trail: LogFileValidationEnabled."""
    for trail in snapshot.trails:
        on = trail.log_file_validation
        yield Finding(
            resource=trail.arn,
            passed=on,
            message=f"log file validation {'on' if on else 'off'} for {trail.name}",
        )


@check(
    id="aws.cloudtrail.kms_encrypted",
    title="CloudTrail trails encrypt log files with a KMS key",
    severity="medium",
    interval="24h",
    remediation="Set a customer managed KMS key on the trail (cloudtrail update-trail "
    "--kms-key-id) whose key policy lets CloudTrail encrypt and only log readers decrypt.",
)
def kms_encrypted(snapshot: CloudTrailTrails) -> Iterator[Finding]:
    """One finding per trail: KmsKeyId is set (SSE-KMS instead of the bucket's default)."""
    for trail in snapshot.trails:
        key = trail.kms_key_id
        yield Finding(
            resource=trail.arn,
            passed=key is not None,
            message=f"{trail.name} log files encrypted with {key}"
            if key
            else f"{trail.name} log files not encrypted with a KMS key",
        )


@check(
    id="aws.cloudtrail.cloudwatch_integration",
    title="CloudTrail trails deliver to CloudWatch Logs",
    severity="medium",
    interval="6h",
    remediation="Send the trail to a CloudWatch Logs log group (cloudtrail update-trail "
    "--cloud-watch-logs-log-group-arn ... --cloud-watch-logs-role-arn ...) and make sure the "
    "role can write to it. Limit: MAX_CLOUDWATCH_DELIVERY_AGE (24 h) since the last delivery, "
    "measured against the collection time.",
)
def cloudwatch_integration(snapshot: CloudTrailTrails) -> Iterator[Finding]:
    """One finding per trail: a log group is set and received events within 24 hours."""
    for trail in snapshot.trails:
        delivered = trail.latest_cloudwatch_delivery
        if trail.cloudwatch_log_group_arn is None:
            passed, message = False, f"{trail.name} does not deliver to CloudWatch Logs"
        elif delivered is None:
            passed, message = False, f"{trail.name} never delivered to CloudWatch Logs"
        else:
            age = max(snapshot.collected_at - delivered, timedelta(0))
            passed = age <= MAX_CLOUDWATCH_DELIVERY_AGE
            hours = int(age.total_seconds() // 3600)
            limit = int(MAX_CLOUDWATCH_DELIVERY_AGE.total_seconds() // 3600)
            message = (
                f"{trail.name} last delivered to CloudWatch Logs {hours} h before collection "
                f"({'within' if passed else 'over'} the {limit} h limit)"
            )
        yield Finding(resource=trail.arn, passed=passed, message=message)


class TrailBucket(SnapshotPart):
    """A bucket trails deliver to: Object Lock default retention and MFA delete."""

    name: str
    trails: tuple[str, ...]
    object_lock: bool
    retention_mode: str | None  # COMPLIANCE or GOVERNANCE; None: no default retention
    retention_days: int | None
    mfa_delete: bool

    @property
    def arn(self) -> str:
        return f"arn:aws:s3:::{self.name}"


class CloudTrailBuckets(_AwsSnapshot):
    """The S3 buckets the account's trails deliver log files to."""

    resource_noun: ClassVar[str] = "trail buckets"

    account_arn: str
    buckets: tuple[TrailBucket, ...]


@check(
    id="aws.cloudtrail.bucket_delete_protected",
    title="CloudTrail log buckets lock objects (Object Lock) or require MFA to delete",
    severity="medium",
    interval="24h",
    remediation="Deliver the trail to a bucket created with Object Lock and a default retention "
    "(COMPLIANCE mode), or enable MFA delete on the bucket with the root user.",
)
def bucket_delete_protected(snapshot: CloudTrailBuckets) -> Iterator[Finding]:
    """One finding per trail bucket: Object Lock with a default retention, or MFA delete."""
    for bucket in snapshot.buckets:
        locked = bucket.object_lock and bucket.retention_mode is not None
        lock = (
            f"Object Lock {bucket.retention_mode} {bucket.retention_days} days"
            if locked
            else "Object Lock on, no default retention"
            if bucket.object_lock
            else "no Object Lock"
        )
        mfa = "MFA delete on" if bucket.mfa_delete else "no MFA delete"
        yield Finding(
            resource=bucket.arn,
            passed=locked or bucket.mfa_delete,
            message=f"{lock}, {mfa} (trails: {', '.join(bucket.trails)})",
        )
