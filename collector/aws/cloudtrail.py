"""CloudTrail collector: every trail visible from the home region, with its logging status."""

from __future__ import annotations

from datetime import UTC, datetime

from checks.aws.models import CloudTrailTrails, Trail
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(CloudTrailTrails, permissions=["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"])
def cloudtrail_trails(scope: AwsScope) -> CloudTrailTrails:
    """Trails seen from the home region, shadow copies included.

    A multi-region trail has a shadow copy in every region, so the home region sees every trail
    that matters here (single-region trails homed in other regions are not seen).
    DescribeTrails has no pagination; GetTrailStatus takes the ARN, which AWS requires for a
    shadow trail. ``collected_at`` (the clock, read here) is the "now" that CloudWatch Logs
    delivery times are judged against.
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
        seen[arn] = Trail(
            name=listed["Name"],
            arn=arn,
            home_region=listed.get("HomeRegion", scope.region),
            is_multi_region=bool(listed.get("IsMultiRegionTrail", False)),
            is_logging=bool(status["IsLogging"]),
            log_file_validation=bool(listed.get("LogFileValidationEnabled", False)),
            kms_key_id=listed.get("KmsKeyId") or None,
            cloudwatch_log_group_arn=listed.get("CloudWatchLogsLogGroupArn") or None,
            latest_cloudwatch_delivery=delivered.astimezone(UTC) if delivered else None,
        )
    return CloudTrailTrails(
        account_arn=f"arn:aws:iam::{scope.account_id}:root",
        collected_at=collected_at,
        trails=tuple(sorted(seen.values(), key=lambda t: t.arn)),
    )
