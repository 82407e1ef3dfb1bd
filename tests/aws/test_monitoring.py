"""Monitoring checks per region (Config, GuardDuty, Security Hub, flow logs) and the CloudWatch
alarms on the CloudTrail log group, under moto plus real wire answers where moto has none."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from checks.aws.alarms import (
    ROOT_USAGE,
    ROOT_USAGE_NARROWINGS,
    root_usage_alarm,
    unauthorized_api_calls_alarm,
)
from checks.aws.filter_patterns import covers
from checks.aws.models import (
    CloudTrailAlarms,
    CloudTrailTrails,
    ConfigRecorders,
    GuardDutyDetectors,
    SecurityHubState,
    VpcFlowLogs,
)
from checks.aws.monitoring import (
    config_recorder_enabled,
    guardduty_enabled,
    securityhub_enabled,
    vpc_flow_logs_enabled,
)
from checks.testing import findings, verdicts
from collector.aws.credential_report import serve_wire_by_region
from collector.testing import collect_aws
from tests.aws.wire import ACCOUNT, serve_wire

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ACCOUNT_ARN = f"arn:aws:iam::{ACCOUNT}:root"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/config"


def per_region(kind: type, session: boto3.Session, check: Any) -> set[tuple[str, bool]]:
    return {pair for r in REGIONS for pair in verdicts(check, collect_aws(kind, session, region=r))}


def regional(service: str, resource: str, region: str) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


# --- AWS Config -----------------------------------------------------------------------------


def test_config_recorder_judged_per_region(session: boto3.Session) -> None:
    east = session.client("config", region_name="us-east-1")
    east.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": ROLE,
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    east.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "cfg-bucket"})
    east.start_configuration_recorder(ConfigurationRecorderName="default")
    # eu-west-1: recording, but only two resource types
    west = session.client("config", region_name="eu-west-1")
    west.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "partial",
            "roleARN": ROLE,
            "recordingGroup": {
                "allSupported": False,
                "resourceTypes": ["AWS::S3::Bucket", "AWS::IAM::User"],
            },
        }
    )
    west.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "cfg-bucket"})
    west.start_configuration_recorder(ConfigurationRecorderName="partial")

    assert per_region(ConfigRecorders, session, config_recorder_enabled) == {
        (regional("config", "configuration-recorder", "us-east-1"), True),
        (regional("config", "configuration-recorder", "eu-west-1"), False),
        (regional("config", "configuration-recorder", "ap-southeast-2"), False),
    }
    west_snapshot = collect_aws(ConfigRecorders, session, region="eu-west-1")
    assert findings(config_recorder_enabled, west_snapshot)[0].message == (
        "no complete AWS Config recording in eu-west-1: "
        "partial (recording, selected resource types)"
    )


def test_stopped_recorder_fails(session: boto3.Session) -> None:
    session.client("config").put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": ROLE,
            "recordingGroup": {"allSupported": True},
        }
    )
    snapshot = collect_aws(ConfigRecorders, session)
    assert [(f.passed, f.message) for f in findings(config_recorder_enabled, snapshot)] == [
        (
            False,
            "no complete AWS Config recording in us-east-1: default (stopped, all resource types)",
        )
    ]


# --- GuardDuty ------------------------------------------------------------------------------


def test_guardduty_judged_per_region(session: boto3.Session) -> None:
    session.client("guardduty", region_name="us-east-1").create_detector(Enable=True)
    session.client("guardduty", region_name="eu-west-1").create_detector(Enable=False)

    assert per_region(GuardDutyDetectors, session, guardduty_enabled) == {
        (regional("guardduty", "detector", "us-east-1"), True),
        (regional("guardduty", "detector", "eu-west-1"), False),
        (regional("guardduty", "detector", "ap-southeast-2"), False),
    }
    west = collect_aws(GuardDutyDetectors, session, region="eu-west-1")
    assert findings(guardduty_enabled, west)[0].message.startswith(
        "GuardDuty detector suspended in eu-west-1: "
    )


# --- Security Hub (moto has DescribeHub, not GetEnabledStandards) ----------------------------

FSBP = "arn:aws:securityhub:{region}::standards/aws-foundational-security-best-practices/v/1.0.0"
CIS = "arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0"
STANDARDS = {
    "us-east-1": [(FSBP, "READY"), (CIS, "FAILED")],
    "eu-west-1": [(CIS, "INCOMPLETE")],
}


def enabled_standards(region: str, request: Any) -> bytes:
    subscriptions = [
        {
            "StandardsSubscriptionArn": f"arn:aws:securityhub:{region}:{ACCOUNT}:subscription/x{i}",
            "StandardsArn": arn.format(region=region),
            "StandardsInput": {},
            "StandardsStatus": status,
        }
        for i, (arn, status) in enumerate(STANDARDS.get(region, []))
    ]
    return json.dumps({"StandardsSubscriptions": subscriptions}).encode()


def hub(region: str) -> str:
    return regional("securityhub", "hub/default", region)


def test_security_hub_judged_per_region(session: boto3.Session) -> None:
    for region in ("us-east-1", "eu-west-1"):
        session.client("securityhub", region_name=region).enable_security_hub()
    serve_wire_by_region(session, "securityhub.GetEnabledStandards", enabled_standards)

    assert per_region(SecurityHubState, session, securityhub_enabled) == {
        (hub("us-east-1"), True),
        (hub("eu-west-1"), False),
        (hub("ap-southeast-2"), False),
    }
    messages = {
        r: findings(securityhub_enabled, collect_aws(SecurityHubState, session, region=r))[
            0
        ].message
        for r in REGIONS
    }
    assert messages == {
        "us-east-1": "Security Hub enabled in us-east-1 with "
        "aws-foundational-security-best-practices/v/1.0.0",
        "eu-west-1": "Security Hub in eu-west-1 has no ready standard: "
        "cis-aws-foundations-benchmark/v/1.2.0 (INCOMPLETE)",
        "ap-southeast-2": "Security Hub not enabled in ap-southeast-2",
    }


def test_security_hub_access_denied_is_not_not_subscribed(session: boto3.Session) -> None:
    body = {
        "__type": "InvalidAccessException",
        "Message": "Account is not authorized to call DescribeHub from this organization",
    }
    serve_wire(
        session,
        "securityhub.DescribeHub",
        json.dumps(body).encode(),
        status=401,
        content_type="application/json",
    )
    with pytest.raises(ClientError, match="not authorized"):
        collect_aws(SecurityHubState, session)


# --- VPC flow logs --------------------------------------------------------------------------


def vpc(region: str, vpc_id: str) -> str:
    return regional("ec2", f"vpc/{vpc_id}", region)


def test_every_vpc_needs_an_active_flow_log(session: boto3.Session) -> None:
    session.client("s3").create_bucket(Bucket="flow-logs-bucket")
    ec2 = session.client("ec2")
    default = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    logged = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    ec2.create_vpc(CidrBlock="10.2.0.0/16")
    unlogged = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.2.0.0/16"]}])["Vpcs"]
    unlogged_id = unlogged[0]["VpcId"]
    ec2.create_flow_logs(
        ResourceIds=[default, logged],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::flow-logs-bucket",
    )

    east = collect_aws(VpcFlowLogs, session, region="us-east-1")
    west = collect_aws(VpcFlowLogs, session, region="eu-west-1")

    assert verdicts(vpc_flow_logs_enabled, east) == {
        (vpc("us-east-1", default), True),
        (vpc("us-east-1", logged), True),
        (vpc("us-east-1", unlogged_id), False),
    }
    [west_default] = west.vpcs
    assert verdicts(vpc_flow_logs_enabled, west) == {(west_default.arn, False)}
    messages = {f.resource: f.message for f in findings(vpc_flow_logs_enabled, east)}
    assert messages[vpc("us-east-1", unlogged_id)] == f"{unlogged_id} has no flow log"


def test_failed_delivery_is_not_a_working_flow_log() -> None:
    snapshot = VpcFlowLogs(
        region="us-east-1",
        vpcs=({"vpc_id": "vpc-1", "arn": vpc("us-east-1", "vpc-1")},),
        flow_logs=(
            {
                "flow_log_id": "fl-1",
                "resource_id": "vpc-1",
                "status": "ACTIVE",
                "delivery_status": "FAILED",
            },
        ),
    )
    assert [(f.passed, f.message) for f in findings(vpc_flow_logs_enabled, snapshot)] == [
        (False, "vpc-1 has no working flow log: fl-1 (ACTIVE, delivery FAILED)")
    ]


# --- CloudWatch alarms on the trail's log group ---------------------------------------------

ROOT_CIS = (
    "{ $.userIdentity.type = 'Root'  &&  $.userIdentity.invokedBy NOT EXISTS && "
    '$.eventType != "AwsServiceEvent" }'
)
ACCESS_DENIED = '{ ($.errorCode = "AccessDenied*") && ($.eventName != "HeadBucket") }'
UNAUTHORIZED = '{($.errorCode="*UnauthorizedOperation")}'
TOPIC = f"arn:aws:sns:eu-west-1:{ACCOUNT}:security-alerts"


def metric_filter(logs: Any, name: str, pattern: str) -> None:
    logs.put_metric_filter(
        logGroupName="org-trail",
        filterName=name,
        filterPattern=pattern,
        metricTransformations=[
            {"metricName": name, "metricNamespace": "CISBenchmark", "metricValue": "1"}
        ],
    )


def alarm(cloudwatch: Any, metric: str, *, actions: bool = True) -> None:
    cloudwatch.put_metric_alarm(
        AlarmName=f"{metric}-alarm",
        MetricName=metric,
        Namespace="CISBenchmark",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[TOPIC] if actions else [],
    )


@pytest.fixture
def org_trail(session: boto3.Session) -> tuple[Any, Any]:
    """A logging multi-region trail homed in eu-west-1 (not the scope's home region) that
    delivers to the eu-west-1 log group org-trail; returns that region's logs and cloudwatch."""
    session.client("s3").create_bucket(Bucket="trail-logs-bucket")
    logs = session.client("logs", region_name="eu-west-1")
    logs.create_log_group(logGroupName="org-trail")
    cloudtrail = session.client("cloudtrail", region_name="eu-west-1")
    cloudtrail.create_trail(
        Name="org-trail",
        S3BucketName="trail-logs-bucket",
        IsMultiRegionTrail=True,
        CloudWatchLogsLogGroupArn=f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:org-trail:*",
        CloudWatchLogsRoleArn=f"arn:aws:iam::{ACCOUNT}:role/trail-logs",
    )
    cloudtrail.start_logging(Name="org-trail")
    return logs, session.client("cloudwatch", region_name="eu-west-1")


def alarm_verdicts(session: boto3.Session) -> dict[str, tuple[bool, str]]:
    trails = collect_aws(CloudTrailTrails, session)
    alarms = collect_aws(CloudTrailAlarms, session)
    return {
        check.__name__: next((f.passed, f.message) for f in findings(check, trails, alarms))
        for check in (root_usage_alarm, unauthorized_api_calls_alarm)
    }


def test_alarms_on_filters_of_the_trail_log_group_pass(
    session: boto3.Session, org_trail: tuple[Any, Any]
) -> None:
    logs, cloudwatch = org_trail
    for name, pattern in (
        ("root-usage", ROOT_CIS),
        ("access-denied", ACCESS_DENIED),
        ("unauthorized", UNAUTHORIZED),
    ):
        metric_filter(logs, name, pattern)
        alarm(cloudwatch, name)

    trails = collect_aws(CloudTrailTrails, session)
    alarms = collect_aws(CloudTrailAlarms, session)

    assert verdicts(root_usage_alarm, trails, alarms) == {(ACCOUNT_ARN, True)}
    assert verdicts(unauthorized_api_calls_alarm, trails, alarms) == {(ACCOUNT_ARN, True)}
    assert findings(unauthorized_api_calls_alarm, trails, alarms)[0].message == (
        "unauthorized API calls alarmed on org-trail (trail org-trail): "
        "access-denied -> access-denied-alarm, unauthorized -> unauthorized-alarm"
    )


def test_narrowed_patterns_and_silent_alarms_fail(
    session: boto3.Session, org_trail: tuple[Any, Any]
) -> None:
    logs, cloudwatch = org_trail
    # root console logins only: narrower than root usage
    metric_filter(
        logs, "root-login", '{ $.userIdentity.type = "Root" && $.eventName = "ConsoleLogin" }'
    )
    alarm(cloudwatch, "root-login")
    # covers root usage, but its alarm notifies no one
    metric_filter(logs, "root-quiet", '{ $.userIdentity.type = "Root" }')
    alarm(cloudwatch, "root-quiet", actions=False)
    # only one of the two error-code families
    metric_filter(logs, "access-denied", ACCESS_DENIED)
    alarm(cloudwatch, "access-denied")

    assert alarm_verdicts(session) == {
        "root_usage_alarm": (
            False,
            "no root usage alarm: org-trail: no alarmed metric filter for "
            '$.userIdentity.type = "Root" (filters without an alarm that notifies: root-quiet)',
        ),
        "unauthorized_api_calls_alarm": (
            False,
            "no unauthorized API calls alarm: org-trail: no alarmed metric filter for "
            '$.errorCode = "*UnauthorizedOperation"',
        ),
    }


def test_no_trail_log_group_fails(session: boto3.Session) -> None:
    message = "no logging multi-region trail delivers to CloudWatch Logs"
    assert alarm_verdicts(session) == {
        "root_usage_alarm": (False, message),
        "unauthorized_api_calls_alarm": (False, message),
    }


@pytest.mark.parametrize(
    ("pattern", "covered"),
    [
        ('{$.userIdentity.type="Root"}', True),
        ("{ ( $.userIdentity.type = Root ) }", True),
        ('{ $.userIdentity.type = "Root" || $.userIdentity.type = "IAMUser" }', True),
        ('{ $.userIdentity.type != "Root" }', False),
        ('{ $.userIdentity.type = "root" }', False),
        ('{ $.userIdentity.type = "Root" && $.sourceIPAddress = "10.0.0.1" }', False),
        ('{ $.userIdentity.type = "Root"', False),
        ('"Root"', False),
    ],
)
def test_root_pattern_reading(pattern: str, covered: bool) -> None:
    assert covers(pattern, ROOT_USAGE[0], ROOT_USAGE_NARROWINGS) is covered
