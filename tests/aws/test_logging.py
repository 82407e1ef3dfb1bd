"""CloudTrail log protection checks: log file validation, KMS encryption, CloudWatch Logs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from checks.aws.cloudtrail import cloudwatch_integration, kms_encrypted, log_file_validation
from checks.aws.models import CloudTrailTrails
from checks.testing import findings, verdicts
from collector.aws.credential_report import serve_wire_by_region
from collector.testing import collect_aws
from tests.aws.wire import ACCOUNT

KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0d2e4a6c-1111-2222-3333-444455556666"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/cloudtrail-to-logs"


def group(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:logs:{region}:{ACCOUNT}:log-group:{name}:*"


def trail_arn(name: str, region: str = "us-east-1") -> str:
    return f"arn:aws:cloudtrail:{region}:{ACCOUNT}:trail/{name}"


@pytest.fixture
def trails(session: boto3.Session) -> None:
    session.client("s3").create_bucket(Bucket="trail-logs-bucket")
    cloudtrail = session.client("cloudtrail")
    cloudtrail.create_trail(
        Name="org-audit",
        S3BucketName="trail-logs-bucket",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId=KEY,
        CloudWatchLogsLogGroupArn=group("org-audit"),
        CloudWatchLogsRoleArn=ROLE,
    )
    cloudtrail.create_trail(
        Name="stale-feed",
        S3BucketName="trail-logs-bucket",
        CloudWatchLogsLogGroupArn=group("stale-feed"),
        CloudWatchLogsRoleArn=ROLE,
    )
    cloudtrail.create_trail(Name="plain", S3BucketName="trail-logs-bucket")
    # homed in eu-west-1 and multi-region: seen from us-east-1 as a shadow trail
    session.client("cloudtrail", region_name="eu-west-1").create_trail(
        Name="eu-everywhere",
        S3BucketName="trail-logs-bucket",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        CloudWatchLogsLogGroupArn=group("eu-everywhere", "eu-west-1"),
        CloudWatchLogsRoleArn=ROLE,
    )


def serve_trail_status(session: boto3.Session, delivered: dict[str, datetime]) -> None:
    """GetTrailStatus as CloudTrail answers it (moto omits the CloudWatch Logs fields)."""

    def answer(region: str, request: Any) -> bytes:
        name = json.loads(request.body)["Name"]
        status: dict[str, Any] = {"IsLogging": True}
        if name in delivered:
            status["LatestCloudWatchLogsDeliveryTime"] = delivered[name].timestamp()
        return json.dumps(status).encode()

    serve_wire_by_region(
        session, "cloudtrail.GetTrailStatus", answer, content_type="application/x-amz-json-1.1"
    )


def test_trails_judged_on_validation_encryption_and_delivery(
    session: boto3.Session, trails: None
) -> None:
    now = datetime.now(UTC)
    serve_trail_status(
        session,
        {
            trail_arn("org-audit"): now - timedelta(minutes=5),
            trail_arn("stale-feed"): now - timedelta(hours=30),
            # eu-everywhere: a log group, but no delivery ever
        },
    )

    snapshot = collect_aws(CloudTrailTrails, session)

    every = {trail_arn(n) for n in ("org-audit", "stale-feed", "plain")}
    every.add(trail_arn("eu-everywhere", "eu-west-1"))
    assert {t.arn for t in snapshot.trails} == every
    assert verdicts(log_file_validation, snapshot) == {
        (trail_arn("org-audit"), True),
        (trail_arn("eu-everywhere", "eu-west-1"), True),
        (trail_arn("stale-feed"), False),
        (trail_arn("plain"), False),
    }
    assert verdicts(kms_encrypted, snapshot) == {(trail_arn("org-audit"), True)} | {
        (arn, False) for arn in every - {trail_arn("org-audit")}
    }
    assert verdicts(cloudwatch_integration, snapshot) == {(trail_arn("org-audit"), True)} | {
        (arn, False) for arn in every - {trail_arn("org-audit")}
    }
    messages = {f.resource: f.message for f in findings(cloudwatch_integration, snapshot)}
    assert messages[trail_arn("stale-feed")] == (
        "stale-feed last delivered to CloudWatch Logs 30 h before collection (over the 24 h limit)"
    )
    assert messages[trail_arn("plain")] == "plain does not deliver to CloudWatch Logs"
    assert messages[trail_arn("eu-everywhere", "eu-west-1")] == (
        "eu-everywhere never delivered to CloudWatch Logs"
    )
    keys = {f.resource: f.message for f in findings(kms_encrypted, snapshot)}
    assert keys[trail_arn("org-audit")] == f"org-audit log files encrypted with {KEY}"
    assert keys[trail_arn("plain")] == "plain log files not encrypted with a KMS key"


def test_delivery_age_is_measured_against_collection_time() -> None:
    """The check reads no clock: the same trail passes or fails with ``collected_at``."""
    delivered = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
    trail = {
        "name": "t",
        "arn": trail_arn("t"),
        "home_region": "us-east-1",
        "is_multi_region": True,
        "is_logging": True,
        "log_file_validation": True,
        "kms_key_id": None,
        "cloudwatch_log_group_arn": group("t"),
        "latest_cloudwatch_delivery": delivered,
    }

    def at(hours: float) -> set[tuple[str, bool]]:
        snapshot = CloudTrailTrails(
            account_arn=f"arn:aws:iam::{ACCOUNT}:root",
            collected_at=delivered + timedelta(hours=hours),
            trails=(trail,),
        )
        return verdicts(cloudwatch_integration, snapshot)

    assert at(24) == {(trail_arn("t"), True)}
    assert at(24.01) == {(trail_arn("t"), False)}


def test_no_trails_yield_no_findings(session: boto3.Session) -> None:
    snapshot = collect_aws(CloudTrailTrails, session)
    for check in (log_file_validation, kms_encrypted, cloudwatch_integration):
        assert verdicts(check, snapshot) == set()
