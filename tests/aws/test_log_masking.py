"""CloudWatch Logs data protection (masking) per log group. moto's DescribeLogGroups leaves
out ``dataProtectionStatus`` and ``inheritedProperties``, so the answer is served in AWS's
JSON 1.1 wire shape (docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/
API_DescribeLogGroups.html, API_LogGroup.html), over two pages; a denied call errors."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from checks.aws.logs import LogGroups, sensitive_data_masked
from checks.testing import findings
from collector.aws.credential_report import serve_wire_by_region
from collector.testing import collect_aws
from tests.aws.errors import serve_error
from tests.aws.wire import ACCOUNT

REGION = "eu-west-1"


def group(name: str, **protection: object) -> dict[str, object]:
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}"
    return {
        "logGroupName": name,
        "creationTime": 1_709_283_600_000,
        "metricFilterCount": 0,
        "arn": f"{arn}:*",
        "storedBytes": 2048,
        "logGroupClass": "STANDARD",
        "logGroupArn": arn,
        **protection,
    }


def serve_groups(session: boto3.Session, groups: list[dict[str, object]]) -> None:
    def page(region: str, request: object) -> bytes:
        sent = json.loads(request.body or b"{}")  # type: ignore[attr-defined]
        if sent.get("nextToken"):
            return json.dumps({"logGroups": groups[2:]}).encode()
        return json.dumps({"logGroups": groups[:2], "nextToken": "page-2"}).encode()

    serve_wire_by_region(
        session, "logs.DescribeLogGroups", page, content_type="application/x-amz-json-1.1"
    )


def test_own_or_inherited_policy_masks_and_anything_else_fails(session) -> None:
    serve_groups(
        session,
        [
            group("/acme/payments", dataProtectionStatus="ACTIVATED"),
            group("/acme/api", inheritedProperties=["ACCOUNT_DATA_PROTECTION"]),
            group("/acme/legacy", dataProtectionStatus="DISABLED"),
            group("/acme/batch", inheritedProperties=[]),
        ],
    )
    snapshot = collect_aws(LogGroups, session, region=REGION)
    assert [(f.passed, f.message) for f in findings(sensitive_data_masked, snapshot)] == [
        (True, "/acme/payments masked by its data protection policy"),
        (True, "/acme/api masked by the account-level data protection policy"),
        (False, "/acme/legacy has no active data protection policy (DISABLED)"),
        (False, "/acme/batch has no active data protection policy"),
    ]
    assert findings(sensitive_data_masked, snapshot)[0].resource == (
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/acme/payments"
    )


def test_a_denied_log_group_list_is_an_error(session) -> None:
    serve_error(
        session,
        "before-send.logs.DescribeLogGroups",
        "AccessDeniedException",
        f"User: arn:aws:iam::{ACCOUNT}:user/audit is not authorized to perform: "
        "logs:DescribeLogGroups",
        status=400,
    )
    with pytest.raises(ClientError, match="logs:DescribeLogGroups"):
        collect_aws(LogGroups, session, region=REGION)
