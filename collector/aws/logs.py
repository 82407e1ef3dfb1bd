"""CloudWatch Logs collector: every log group's retention and data protection
(DescribeLogGroups, all pages)."""

from __future__ import annotations

from checks.aws.logs import LogGroup, LogGroups
from collector.aws.paging import pages
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(LogGroups, permissions=["logs:DescribeLogGroups"], scope="region")
def log_groups(scope: AwsScope) -> LogGroups:
    """The ARN without the ``:*`` suffix AWS appends for IAM use."""
    groups = pages(scope.client("logs"), "describe_log_groups", "logGroups")
    return LogGroups(
        region=scope.region,
        minimum_days=scope.settings.log_retention_days,
        items=tuple(
            LogGroup(
                name=g["logGroupName"],
                arn=g["arn"].removesuffix(":*"),
                retention_days=g.get("retentionInDays"),
                data_protection=g.get("dataProtectionStatus"),
                account_data_protection="ACCOUNT_DATA_PROTECTION"
                in (g.get("inheritedProperties") or ()),
            )
            for g in groups
        ),
    )
