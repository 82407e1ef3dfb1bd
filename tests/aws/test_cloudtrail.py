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


ALL_MANAGEMENT = {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}]}


def trail(
    session: boto3.Session,
    name: str,
    region: str,
    *,
    multi: bool,
    logging: bool,
    selectors: dict | None = None,
) -> None:
    """A trail with AWS's default selectors for a new trail (all management events), which
    moto does not set, unless ``selectors`` says otherwise."""
    cloudtrail = session.client("cloudtrail", region_name=region)
    cloudtrail.create_trail(Name=name, S3BucketName="trail-logs-bucket", IsMultiRegionTrail=multi)
    cloudtrail.put_event_selectors(TrailName=name, **(selectors or ALL_MANAGEMENT))
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
        "everywhere (multi-region, stopped, all management events), "
        "local (single-region us-east-1, logging, all management events)"
    )


@pytest.mark.parametrize(
    ("selectors", "events"),
    [
        (
            {"EventSelectors": [{"ReadWriteType": "All", "IncludeManagementEvents": False}]},
            "no management events",
        ),
        (
            {"EventSelectors": [{"ReadWriteType": "WriteOnly", "IncludeManagementEvents": True}]},
            "write management events only",
        ),
        (
            {
                "EventSelectors": [
                    {
                        "ReadWriteType": "All",
                        "IncludeManagementEvents": True,
                        "ExcludeManagementEventSources": ["kms.amazonaws.com"],
                    }
                ]
            },
            "all management events except kms.amazonaws.com",
        ),
        (
            {
                "AdvancedEventSelectors": [
                    {
                        "Name": "Data events only",
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Data"]},
                            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                        ],
                    }
                ]
            },
            "no management events",
        ),
        (
            {
                "AdvancedEventSelectors": [
                    {
                        "Name": "Management reads",
                        "FieldSelectors": [
                            {"Field": "eventCategory", "Equals": ["Management"]},
                            {"Field": "readOnly", "Equals": ["true"]},
                        ],
                    }
                ]
            },
            "read management events only",
        ),
    ],
    ids=["excluded", "write-only", "kms-excluded", "advanced-data-only", "advanced-reads"],
)
def test_trail_not_recording_all_management_events_fails(
    session: boto3.Session, logs_bucket: None, selectors: dict, events: str
) -> None:
    """A logging multi-region trail whose event selectors leave out management events (all,
    reads or writes, or some sources) does not log account activity."""
    trail(session, "everywhere", "eu-west-1", multi=True, logging=True, selectors=selectors)
    [finding] = findings(multi_region_logging, collect_aws(CloudTrailTrails, session))
    assert (finding.passed, finding.message) == (
        False,
        f"no multi-region trail is logging; trails found: everywhere (multi-region, logging, "
        f"{events})",
    )


def test_advanced_selectors_for_all_management_events_pass(
    session: boto3.Session, logs_bucket: None
) -> None:
    selectors = {
        "AdvancedEventSelectors": [
            {
                "Name": "Management events",
                "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}],
            }
        ]
    }
    trail(session, "everywhere", "us-east-1", multi=True, logging=True, selectors=selectors)
    assert verdicts(multi_region_logging, collect_aws(CloudTrailTrails, session)) == {
        (ACCOUNT_ARN, True)
    }


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
