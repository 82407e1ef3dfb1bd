"""CloudWatch alarm checks: the CloudTrail log group raises an alarm on root use and on
unauthorized API calls (CIS AWS Foundations style metric filters).

Judged once per account on the log groups of logging multi-region trails (the trail that sees
every region): passes when one such log group has, for each required filter term, a metric
filter covering it and an alarm with enabled actions on the filter's metric.
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.aws.filter_patterns import Term, covers
from checks.aws.models import CloudTrailAlarms, CloudTrailTrails, TrailLogGroup

#: ``$.userIdentity.type = "Root"``, optionally narrowed by CIS's two exclusions.
ROOT_USAGE: tuple[Term, ...] = (("$.userIdentity.type", "=", "Root"),)
ROOT_USAGE_NARROWINGS = frozenset(
    {("$.userIdentity.invokedBy", "NOT EXISTS", ""), ("$.eventType", "!=", "AwsServiceEvent")}
)
#: Both error-code families, optionally narrowed by CIS's exclusions of log delivery noise.
UNAUTHORIZED_CALLS: tuple[Term, ...] = (
    ("$.errorCode", "=", "*UnauthorizedOperation"),
    ("$.errorCode", "=", "AccessDenied*"),
)
UNAUTHORIZED_NARROWINGS = frozenset(
    {
        ("$.sourceIPAddress", "!=", "delivery.logs.amazonaws.com"),
        ("$.eventName", "!=", "HeadBucket"),
    }
)
_REMEDIATION = (
    "On the log group of the multi-region trail, create a metric filter with the pattern "
    "{pattern} and a CloudWatch alarm on its metric whose action notifies someone (an SNS "
    "topic with a subscriber). The resource is the account, arn:aws:iam::<account>:root."
)


@check(
    id="aws.cloudwatch.root_usage_alarm",
    title="An alarm fires when the root user is used",
    severity="medium",
    interval="24h",
    remediation=_REMEDIATION.format(
        pattern='{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS '
        '&& $.eventType != "AwsServiceEvent" }'
    ),
)
def root_usage_alarm(trails: CloudTrailTrails, alarms: CloudTrailAlarms) -> Iterator[Finding]:
    """One finding for the account."""
    yield _judge(trails, alarms, "root usage", ROOT_USAGE, ROOT_USAGE_NARROWINGS)


@check(
    id="aws.cloudwatch.unauthorized_api_calls_alarm",
    title="An alarm fires on unauthorized API calls",
    severity="medium",
    interval="24h",
    remediation=_REMEDIATION.format(
        pattern='{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
    ),
)
def unauthorized_api_calls_alarm(
    trails: CloudTrailTrails, alarms: CloudTrailAlarms
) -> Iterator[Finding]:
    """One finding for the account; both error-code terms must be covered."""
    yield _judge(
        trails, alarms, "unauthorized API calls", UNAUTHORIZED_CALLS, UNAUTHORIZED_NARROWINGS
    )


def _judge(
    trails: CloudTrailTrails,
    alarms: CloudTrailAlarms,
    what: str,
    required: tuple[Term, ...],
    narrowings: frozenset[Term],
) -> Finding:
    eligible = {t.arn: t.name for t in trails.trails if t.is_multi_region and t.is_logging}
    groups = [g for g in alarms.log_groups if g.trail_arn in eligible]
    if not groups:
        message = "no logging multi-region trail delivers to CloudWatch Logs"
        return Finding(resource=alarms.account_arn, passed=False, message=message)
    gaps = []
    for group in groups:
        alarmed, unalarmed = _coverage(group, required, narrowings)
        if len(alarmed) == len(required):
            return Finding(
                resource=alarms.account_arn,
                passed=True,
                message=f"{what} alarmed on {_name(group)} (trail {eligible[group.trail_arn]}): "
                + ", ".join(sorted(set(alarmed.values()))),
            )
        missing = [_show(t) for t in required if t not in alarmed]
        detail = f"no alarmed metric filter for {', '.join(missing)}"
        if unalarmed:
            detail += f" (filters without an alarm that notifies: {', '.join(unalarmed)})"
        gaps.append(f"{_name(group)}: {detail}")
    return Finding(
        resource=alarms.account_arn, passed=False, message=f"no {what} alarm: " + "; ".join(gaps)
    )


def _coverage(
    group: TrailLogGroup, required: tuple[Term, ...], narrowings: frozenset[Term]
) -> tuple[dict[Term, str], list[str]]:
    """Required terms covered by a filter with a live alarm (-> "filter -> alarm"), and the
    names of covering filters that no live alarm watches."""
    alarmed: dict[Term, str] = {}
    unalarmed = []
    for metric_filter in group.metric_filters:
        hits = [t for t in required if covers(metric_filter.pattern, t, narrowings)]
        if not hits:
            continue
        live = sorted(
            a.name
            for a in group.alarms
            if a.actions_enabled and a.alarm_actions and set(a.metrics) & set(metric_filter.metrics)
        )
        if not live:
            unalarmed.append(metric_filter.name)
        for term in hits if live else ():
            alarmed.setdefault(term, f"{metric_filter.name} -> {live[0]}")
    return alarmed, unalarmed


def _name(group: TrailLogGroup) -> str:
    return group.log_group_arn.split(":")[6]


def _show(term: Term) -> str:
    selector, op, value = term
    return f'{selector} {op} "{value}"'
