"""Macie automated sensitive data discovery: moto for the Macie session, AWS's REST-JSON
wire shapes for what moto lacks or answers differently (docs.aws.amazon.com/macie/latest/
APIReference/automated-discovery-configuration.html; GetMacieSession's AccessDeniedException
"Macie is not enabled." where Macie is off), and a real denial."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from checks.aws.macie import MacieStatus, sensitive_data_discovery
from checks.testing import findings, verdicts
from collector.aws.credential_report import wire_response
from collector.aws.demo_estate import serve_unrouted_wire_by_region
from collector.testing import collect_aws
from tests.aws.wire import ACCOUNT

REGION = "eu-west-1"
ARN = f"arn:aws:macie2:{REGION}:{ACCOUNT}:configuration/automated-discovery"


def serve_discovery(session: boto3.Session, status: str) -> list[str]:
    asked: list[str] = []

    def answer(region: str, _: object) -> bytes:
        asked.append(region)
        body = {
            "autoEnableOrganizationMembers": "NEW",
            "classificationScopeId": "117aff7ed76b59a59c48cc9a2a1ed4e6",
            "disabledAt": "2024-04-01T09:00:00Z" if status == "DISABLED" else None,
            "firstEnabledAt": "2024-03-01T09:00:00Z",
            "lastUpdatedAt": "2024-04-01T09:00:00Z",
            "sensitivityInspectionTemplateId": "9fac8f5c5d8e4c5d8c1a1b2c3d4e5f60",
            "status": status,
        }
        return json.dumps({k: v for k, v in body.items() if v is not None}).encode()

    serve_unrouted_wire_by_region(
        session,
        "macie2.GetAutomatedDiscoveryConfiguration",
        answer,
        content_type="application/json",
    )
    return asked


def deny_session(session: boto3.Session, message: str) -> None:
    """GetMacieSession's AccessDeniedException, as Macie sends it (REST-JSON, 403)."""

    def handler(request: Any, **_: Any) -> Any:
        body = json.dumps({"message": message}).encode()
        response = wire_response(request.url, body, status=403, content_type="application/json")
        response.headers["x-amzn-ErrorType"] = "AccessDeniedException"
        return response

    session.events.register_first("before-send.macie2.GetMacieSession", handler)


@pytest.mark.parametrize(("status", "passed"), [("ENABLED", True), ("DISABLED", False)])
def test_discovery_status_decides_where_macie_is_enabled(session, status, passed) -> None:
    session.client("macie2", region_name=REGION).enable_macie()
    asked = serve_discovery(session, status)
    snapshot = collect_aws(MacieStatus, session, region=REGION)
    assert verdicts(sensitive_data_discovery, snapshot) == {(ARN, passed)}
    (finding,) = findings(sensitive_data_discovery, snapshot)
    assert finding.message == f"automated sensitive data discovery {status}"
    assert asked == [REGION]


def test_paused_macie_fails_without_asking_about_discovery(session) -> None:
    session.client("macie2", region_name=REGION).enable_macie(status="PAUSED")
    asked = serve_discovery(session, "ENABLED")
    snapshot = collect_aws(MacieStatus, session, region=REGION)
    assert [(f.passed, f.message) for f in findings(sensitive_data_discovery, snapshot)] == [
        (False, "Macie is PAUSED")
    ]
    assert asked == []


def test_macie_not_enabled_is_a_failure(session) -> None:
    deny_session(session, "Macie is not enabled.")
    snapshot = collect_aws(MacieStatus, session, region=REGION)
    assert [(f.passed, f.message) for f in findings(sensitive_data_discovery, snapshot)] == [
        (False, "Macie is not enabled")
    ]


def test_a_real_denial_is_an_error_not_a_failure(session) -> None:
    deny_session(
        session,
        f"User: arn:aws:iam::{ACCOUNT}:user/audit is not authorized to perform: "
        "macie2:GetMacieSession",
    )
    with pytest.raises(ClientError, match="macie2:GetMacieSession"):
        collect_aws(MacieStatus, session, region=REGION)
