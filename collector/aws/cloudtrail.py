"""CloudTrail collector: every trail visible from the home region, with its logging status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from checks.aws.cloudtrail import CloudTrailBuckets, TrailBucket
from checks.aws.models import CloudTrailTrails, Trail
from collector.aws.paging import each
from collector.aws.s3 import absent_as_none
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    CloudTrailTrails,
    permissions=[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
    ],
)
def cloudtrail_trails(scope: AwsScope) -> CloudTrailTrails:
    """Trails seen from the home region, shadow copies included.

    A multi-region trail has a shadow copy in every region, so the home region sees every trail
    that matters here (single-region trails homed in other regions are not seen).
    DescribeTrails has no pagination; GetTrailStatus takes the ARN, which AWS requires for a
    shadow trail; GetEventSelectors is asked in the trail's home region. ``collected_at`` (the
    clock, read here) is the "now" that CloudWatch Logs delivery times are judged against.
    """
    collected_at = datetime.now(UTC)
    cloudtrail = scope.client("cloudtrail")
    seen: dict[str, Trail] = {}
    for listed in cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", []):
        arn = listed["TrailARN"]
        if arn in seen:
            continue
        status = cloudtrail.get_trail_status(Name=arn)
        delivered = status.get("LatestCloudWatchLogsDeliveryTime")
        home = listed.get("HomeRegion", scope.region)
        selectors = scope.client("cloudtrail", region=home).get_event_selectors(TrailName=arn)
        reads, writes, excluded = management_events(selectors)
        seen[arn] = Trail(
            name=listed["Name"],
            arn=arn,
            home_region=home,
            is_multi_region=bool(listed.get("IsMultiRegionTrail", False)),
            is_logging=bool(status["IsLogging"]),
            log_file_validation=bool(listed.get("LogFileValidationEnabled", False)),
            kms_key_id=listed.get("KmsKeyId") or None,
            cloudwatch_log_group_arn=listed.get("CloudWatchLogsLogGroupArn") or None,
            latest_cloudwatch_delivery=delivered.astimezone(UTC) if delivered else None,
            management_reads=reads,
            management_writes=writes,
            management_excluded=excluded,
            s3_bucket=listed.get("S3BucketName") or None,
        )
    return CloudTrailTrails(
        account_arn=f"arn:aws:iam::{scope.account_id}:root",
        collected_at=collected_at,
        trails=tuple(sorted(seen.values(), key=lambda t: t.arn)),
    )


NO_OBJECT_LOCK = "ObjectLockConfigurationNotFoundError"  # S3's documented "not configured"


@collects(
    CloudTrailBuckets,
    permissions=[
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketVersioning",
    ],
)
def cloudtrail_buckets(scope: AwsScope) -> CloudTrailBuckets:
    """Each trail bucket's Object Lock default retention and MFA delete, read once per bucket.
    A bucket in another account that denies the read is an error, not a verdict."""
    trails = scope.get(CloudTrailTrails).trails
    names = sorted({t.s3_bucket for t in trails if t.s3_bucket})
    s3 = scope.client("s3")
    return CloudTrailBuckets(
        account_arn=f"arn:aws:iam::{scope.account_id}:root",
        buckets=tuple(each(lambda name: _trail_bucket(s3, name, trails), names)),
    )


def _trail_bucket(s3: Any, name: str, trails: tuple[Trail, ...]) -> TrailBucket:
    answer = absent_as_none(NO_OBJECT_LOCK, lambda: s3.get_object_lock_configuration(Bucket=name))
    lock = (answer or {}).get("ObjectLockConfiguration") or {}
    retention = (lock.get("Rule") or {}).get("DefaultRetention") or {}
    days = retention.get("Days") or 365 * (retention.get("Years") or 0) or None
    versioning = s3.get_bucket_versioning(Bucket=name)
    return TrailBucket(
        name=name,
        trails=tuple(sorted(t.name for t in trails if t.s3_bucket == name)),
        object_lock=lock.get("ObjectLockEnabled") == "Enabled",
        retention_mode=retention.get("Mode"),
        retention_days=days,
        mfa_delete=versioning.get("MFADelete") == "Enabled",
    )


def management_events(answer: dict[str, Any]) -> tuple[bool, bool, tuple[str, ...]]:
    """(read events logged, write events logged, event sources excluded) from a
    GetEventSelectors answer: basic selectors (``IncludeManagementEvents``,
    ``ReadWriteType``) or advanced ones (``eventCategory`` = Management, maybe narrowed by
    ``readOnly`` or ``eventSource``)."""
    reads = writes = False
    excluded: set[str] = set()
    for selector in answer.get("EventSelectors") or ():
        if selector.get("IncludeManagementEvents", True):
            kind = selector.get("ReadWriteType", "All")
            reads |= kind in ("All", "ReadOnly")
            writes |= kind in ("All", "WriteOnly")
            excluded |= set(selector.get("ExcludeManagementEventSources") or ())
    for selector in answer.get("AdvancedEventSelectors") or ():
        fields = {f.get("Field"): f for f in selector.get("FieldSelectors") or ()}
        if (fields.get("eventCategory") or {}).get("Equals") != ["Management"]:
            continue
        only = (fields.get("readOnly") or {}).get("Equals")
        reads |= only in (None, ["true"])
        writes |= only in (None, ["false"])
        excluded |= set((fields.get("eventSource") or {}).get("NotEquals") or ())
        if (fields.get("eventSource") or {}).get("Equals"):
            excluded.add("every source but " + ", ".join(fields["eventSource"]["Equals"]))
    return reads, writes, tuple(sorted(excluded))
