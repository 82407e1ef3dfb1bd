"""CloudTrail collector under moto and the multi-region logging check."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from checks.aws.cloudtrail import multi_region_logging
from checks.aws.models import CloudTrailTrails
from checks.testing import findings, verdicts
from collector.testing import collect_aws
from tests.aws.wire import ACCOUNT, serve_wire

ACCOUNT_ARN = f"arn:aws:iam::{ACCOUNT}:root"


def trail(session: boto3.Session, name: str, region: str, *, multi: bool, logging: bool) -> None:
    cloudtrail = session.client("cloudtrail", region_name=region)
    cloudtrail.create_trail(Name=name, S3BucketName="trail-logs-bucket", IsMultiRegionTrail=multi)
    if logging:
        cloudtrail.start_logging(Name=name)


@pytest.fixture
def logs_bucket(session: boto3.Session) -> None:
    session.client("s3").create_bucket(Bucket="trail-logs-bucket")


def test_multi_region_trail_logging_passes(session: boto3.Session, logs_bucket: None) -> None:
    trail(session, "org-audit", "eu-west-1", multi=True, logging=True)  # seen as a shadow
    trail(session, "local", "us-east-1", multi=False, logging=True)

    snapshot = collect_aws(CloudTrailTrails, session)

    assert {(t.name, t.home_region, t.is_multi_region, t.is_logging) for t in snapshot.trails} == {
        ("org-audit", "eu-west-1", True, True),
        ("local", "us-east-1", False, True),
    }
    assert verdicts(multi_region_logging, snapshot) == {(ACCOUNT_ARN, True)}
    [finding] = findings(multi_region_logging, snapshot)
    assert finding.message == "multi-region trail logging: org-audit"


def test_stopped_or_single_region_trails_fail(session: boto3.Session, logs_bucket: None) -> None:
    trail(session, "everywhere", "us-east-1", multi=True, logging=False)
    trail(session, "local", "us-east-1", multi=False, logging=True)

    snapshot = collect_aws(CloudTrailTrails, session)

    [finding] = findings(multi_region_logging, snapshot)
    assert (finding.resource, finding.passed) == (ACCOUNT_ARN, False)
    assert finding.message == (
        "no multi-region trail is logging; trails found: "
        "everywhere (multi-region, stopped), local (single-region us-east-1, logging)"
    )


def test_no_trails_is_a_failing_finding(session: boto3.Session) -> None:
    snapshot = collect_aws(CloudTrailTrails, session)
    assert snapshot.trails == ()
    assert [
        (f.resource, f.passed, f.message) for f in findings(multi_region_logging, snapshot)
    ] == [(ACCOUNT_ARN, False, "no CloudTrail trail exists")]


def test_access_denied_on_trail_status_propagates(
    session: boto3.Session, logs_bucket: None
) -> None:
    trail(session, "everywhere", "us-east-1", multi=True, logging=True)
    body = json.dumps(
        {
            "__type": "AccessDeniedException",
            "message": "User is not authorized to perform: cloudtrail:GetTrailStatus",
        }
    ).encode()
    serve_wire(
        session,
        "cloudtrail.GetTrailStatus",
        body,
        status=400,
        content_type="application/x-amz-json-1.1",
    )
    with pytest.raises(ClientError) as caught:
        collect_aws(CloudTrailTrails, session)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
