"""CloudWatch collector: metric filters on CloudTrail log groups and the alarms watching them."""

from __future__ import annotations

from typing import Any

from checks.aws.models import (
    CloudTrailAlarms,
    CloudTrailTrails,
    MetricAlarm,
    MetricFilter,
    TrailLogGroup,
)
from collector.aws.paging import pages
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(CloudTrailAlarms, permissions=["logs:DescribeMetricFilters", "cloudwatch:DescribeAlarms"])
def cloudtrail_alarms(scope: AwsScope) -> CloudTrailAlarms:
    """For every trail with a CloudWatch Logs log group: the group's metric filters, read in
    the group's own region, and that region's metric alarms on the filters' metrics."""
    alarms_in: dict[str, list[MetricAlarm]] = {}
    groups = []
    for trail in scope.get(CloudTrailTrails).trails:
        if trail.cloudwatch_log_group_arn is None:
            continue
        # arn:aws:logs:<region>:<account>:log-group:<name>:*
        parts = trail.cloudwatch_log_group_arn.split(":")
        region, name = parts[3], parts[6]
        filters = tuple(
            MetricFilter(
                name=f["filterName"],
                pattern=f.get("filterPattern", ""),
                metrics=tuple(
                    f"{m['metricNamespace']}/{m['metricName']}"
                    for m in f.get("metricTransformations", [])
                ),
            )
            for f in pages(
                scope.client("logs", region=region),
                "describe_metric_filters",
                "metricFilters",
                logGroupName=name,
            )
        )
        if region not in alarms_in:
            alarms_in[region] = [
                _alarm(a)
                for a in pages(
                    scope.client("cloudwatch", region=region), "describe_alarms", "MetricAlarms"
                )
            ]
        watched = {m for f in filters for m in f.metrics}
        groups.append(
            TrailLogGroup(
                trail_arn=trail.arn,
                log_group_arn=trail.cloudwatch_log_group_arn,
                region=region,
                metric_filters=filters,
                alarms=tuple(a for a in alarms_in[region] if watched.intersection(a.metrics)),
            )
        )
    return CloudTrailAlarms(
        account_arn=f"arn:aws:iam::{scope.account_id}:root", log_groups=tuple(groups)
    )


def _alarm(alarm: dict[str, Any]) -> MetricAlarm:
    metrics = []
    if alarm.get("MetricName"):
        metrics.append(f"{alarm.get('Namespace', '')}/{alarm['MetricName']}")
    for query in alarm.get("Metrics") or []:  # metric-math alarms name their metrics here
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        if metric.get("MetricName"):
            metrics.append(f"{metric.get('Namespace', '')}/{metric['MetricName']}")
    return MetricAlarm(
        name=alarm["AlarmName"],
        arn=alarm["AlarmArn"],
        metrics=tuple(metrics),
        actions_enabled=bool(alarm.get("ActionsEnabled", False)),
        alarm_actions=tuple(alarm.get("AlarmActions") or ()),
    )
