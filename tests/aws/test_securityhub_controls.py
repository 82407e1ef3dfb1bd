"""Security Hub's failing standard controls: moto for the hub, AWS's REST-JSON wire shape for
GetFindings (docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindings.html, findings
in the ASFF of API_AwsSecurityFinding.html), over two pages; moto ignores the filters, so the
served answer checks them; a denied call errors."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from checks.aws.securityhub import SecurityHubFailures, controls_passing
from checks.testing import findings
from collector.aws.credential_report import serve_wire, serve_wire_by_region
from collector.testing import collect_aws
from tests.aws.test_monitoring import enabled_standards
from tests.aws.wire import ACCOUNT

REGION = "us-east-1"  # a READY standard here (tests.aws.test_monitoring.STANDARDS)
HUB = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:hub/default"


def control(control_id: str, resource: str, severity: str = "HIGH", **over: object) -> dict:
    finding = {
        "SchemaVersion": "2018-10-08",
        "Id": f"arn:aws:securityhub:{REGION}:{ACCOUNT}:security-control/{control_id}/{resource}",
        "ProductArn": f"arn:aws:securityhub:{REGION}::product/aws/securityhub",
        "GeneratorId": f"security-control/{control_id}",
        "AwsAccountId": ACCOUNT,
        "Types": ["Software and Configuration Checks/Industry and Regulatory Standards"],
        "CreatedAt": "2024-05-01T10:00:00.000Z",
        "UpdatedAt": "2024-05-30T10:00:00.000Z",
        "Severity": {"Label": severity, "Normalized": 70 if severity == "HIGH" else 90},
        "Title": f"{control_id} failed",
        "Description": "demo",
        "Resources": [{"Type": "AwsS3Bucket", "Id": resource}],
        "Compliance": {"Status": "FAILED", "SecurityControlId": control_id},
        "Workflow": {"Status": "NEW"},
        "RecordState": "ACTIVE",
    }
    return finding | over


def serve_findings(session: boto3.Session, found: list[dict]) -> list[dict]:
    """Two pages; returns the Filters each request sent."""
    sent: list[dict] = []

    def page(region: str, request: object) -> bytes:
        body = json.loads(request.body)  # type: ignore[attr-defined]
        sent.append(body["Filters"])
        if body.get("NextToken"):
            return json.dumps({"Findings": found[2:]}).encode()
        return json.dumps({"Findings": found[:2], "NextToken": "page-2"}).encode()

    serve_wire_by_region(session, "securityhub.GetFindings", page)
    return sent


@pytest.fixture
def hub(session: boto3.Session) -> boto3.Session:
    session.client("securityhub", region_name=REGION).enable_security_hub()
    serve_wire_by_region(session, "securityhub.GetEnabledStandards", enabled_standards)
    return session


def test_failing_critical_and_high_controls_fail_the_region(hub) -> None:
    sent = serve_findings(
        hub,
        [
            control("S3.8", "arn:aws:s3:::acme-public-website"),
            control("IAM.6", f"arn:aws:iam::{ACCOUNT}:root", "CRITICAL"),
            control("S3.8", "arn:aws:s3:::acme-legacy-exports"),
            # what the filter excludes, should an answer ignore it: not counted
            control("EC2.2", "sg-1", Compliance={"Status": "PASSED", "SecurityControlId": "EC2.2"}),
            control("EC2.19", "sg-2", Workflow={"Status": "SUPPRESSED"}),
            control("KMS.4", "key-1", RecordState="ARCHIVED"),
            control("CloudTrail.7", "trail", "MEDIUM"),
        ],
    )
    snapshot = collect_aws(SecurityHubFailures, hub, region=REGION)
    assert [(f.resource, f.passed, f.message) for f in findings(controls_passing, snapshot)] == [
        (HUB, False, "failing: IAM.6 critical (1 resource), S3.8 high (2 resources)")
    ]
    assert len(sent) == 2
    assert {k: sorted(v["Value"] for v in f) for k, f in sent[0].items()} == {
        "ComplianceStatus": ["FAILED"],
        "RecordState": ["ACTIVE"],
        "SeverityLabel": ["CRITICAL", "HIGH"],
        "WorkflowStatus": ["NEW", "NOTIFIED"],
    }


def test_no_failing_control_passes(hub) -> None:
    serve_findings(hub, [])
    snapshot = collect_aws(SecurityHubFailures, hub, region=REGION)
    assert [(f.passed, f.message) for f in findings(controls_passing, snapshot)] == [
        (True, "no critical or high control failing")
    ]


def test_a_region_without_a_ready_standard_has_nothing_to_judge(session) -> None:
    sent = serve_findings(session, [control("S3.8", "arn:aws:s3:::x")])
    snapshot = collect_aws(SecurityHubFailures, session, region="eu-west-1")  # hub off
    assert findings(controls_passing, snapshot) == [] and sent == []


def test_a_denied_finding_query_is_an_error(hub) -> None:
    body = {"__type": "AccessDeniedException", "Message": "not authorized: GetFindings"}
    serve_wire(
        hub,
        "securityhub.GetFindings",
        json.dumps(body).encode(),
        status=403,
        content_type="application/json",
    )
    with pytest.raises(ClientError, match="GetFindings"):
        collect_aws(SecurityHubFailures, hub, region=REGION)
