"""CloudTrail collector: every trail visible from the home region, with its logging status."""

from __future__ import annotations

from checks.aws.models import CloudTrailTrails, Trail
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(CloudTrailTrails, permissions=["cloudtrail:DescribeTrails", "cloudtrail:GetTrailStatus"])
def cloudtrail_trails(scope: AwsScope) -> CloudTrailTrails:
    """Trails seen from the home region, shadow copies included.

    A multi-region trail has a shadow copy in every region, so the home region sees every trail
    that matters here. DescribeTrails has no pagination; GetTrailStatus takes the ARN, which
    AWS requires for a shadow trail.
    """
    cloudtrail = scope.client("cloudtrail")
    seen: dict[str, Trail] = {}
    for listed in cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", []):
        arn = listed["TrailARN"]
        if arn in seen:
            continue
        status = cloudtrail.get_trail_status(Name=arn)
        seen[arn] = Trail(
            name=listed["Name"],
            arn=arn,
            home_region=listed.get("HomeRegion", scope.region),
            is_multi_region=bool(listed.get("IsMultiRegionTrail", False)),
            is_logging=bool(status["IsLogging"]),
        )
    return CloudTrailTrails(
        account_arn=f"arn:aws:iam::{scope.account_id}:root",
        trails=tuple(sorted(seen.values(), key=lambda t: t.arn)),
    )
