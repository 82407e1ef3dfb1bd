"""Inspector findings past their deadline: the real boto3 paginator against ListFindings answers
in AWS's wire shape (REST-JSON, epoch seconds; docs.aws.amazon.com/inspector/v2/APIReference/
API_ListFindings.html and API_Finding.html), moto for the account's scanning status."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError

from checks.aws.inspector import InspectorFindings, findings_within_deadline
from checks.testing import verdicts
from collector.aws.credential_report import serve_wire_by_region, wire_response
from collector.settings import AwsSettings
from collector.testing import collect_aws
from tests.aws.test_vulns_inventory import STATUS_ARN, account_status
from tests.aws.wire import ACCOUNT, serve_wire

REGION = "eu-west-1"  # as in test_vulns_inventory (STATUS_ARN)
NOW = datetime.now(UTC)


def arn(name: str) -> str:
    return f"arn:aws:inspector2:{REGION}:{ACCOUNT}:finding/{name}"


def finding(name: str, severity: str, days: float, cve: str | None = "CVE-2024-0001") -> dict:
    found = {
        "awsAccountId": ACCOUNT,
        "findingArn": arn(name),
        "type": "PACKAGE_VULNERABILITY" if cve else "NETWORK_REACHABILITY",
        "title": f"{cve} - openssl" if cve else "Port 22 is reachable from an Internet Gateway",
        "description": "d",
        "severity": severity,
        "status": "ACTIVE",
        "firstObservedAt": (NOW - timedelta(days=days)).timestamp(),
        "lastObservedAt": NOW.timestamp(),
        "remediation": {"recommendation": {"text": "upgrade"}},
        "resources": [{"id": f"i-{name}", "type": "AWS_EC2_INSTANCE", "region": REGION}],
    }
    if cve:
        found["packageVulnerabilityDetails"] = {"vulnerabilityId": cve, "source": "NVD"}
    else:
        found["packageVulnerabilityDetails"] = None  # absent for network findings
    return found


def enable(session, kinds: list[str]) -> None:
    session.client("inspector2", region_name=REGION).enable(
        accountIds=[ACCOUNT], resourceTypes=kinds
    )


def serve(session, *answers: list[dict]) -> list[dict]:
    """Page n answers ``answers[n]`` (nextToken between pages); the bodies sent are kept."""
    sent: list[dict] = []

    def page(region: str, request: object) -> bytes:
        body = json.loads(request.body or b"{}")  # type: ignore[attr-defined]
        sent.append(body)
        n = int(body.get("nextToken", "0"))
        reply: dict = {"findings": answers[n]}
        if n + 1 < len(answers):
            reply["nextToken"] = str(n + 1)
        return json.dumps(reply).encode()

    serve_wire_by_region(session, "inspector2.ListFindings", page)
    return sent


def test_findings_past_their_severity_deadline_fail_across_pages(session) -> None:
    enable(session, ["EC2", "ECR"])
    sent = serve(
        session,
        [finding("old-critical", "CRITICAL", 20), finding("new-critical", "CRITICAL", 2)],
        [finding("old-high", "HIGH", 20), finding("net", "HIGH", 31, cve=None)],
    )
    snapshot = collect_aws(InspectorFindings, session, region=REGION)
    assert len(sent) == 2
    criteria = sent[0]["filterCriteria"]
    assert criteria["findingStatus"] == [{"comparison": "EQUALS", "value": "ACTIVE"}]
    assert {c["value"] for c in criteria["severity"]} == {"CRITICAL", "HIGH"}
    assert verdicts(findings_within_deadline, snapshot) == {
        (arn("old-critical"), False),  # 20 days > 15
        (arn("new-critical"), True),
        (arn("old-high"), True),  # 20 days <= 30
        (arn("net"), False),
    }
    messages = {f.resource: f.message for f in findings_within_deadline(snapshot)}
    assert "CVE-2024-0001 on i-old-critical" in messages[arn("old-critical")]
    assert "Port 22 is reachable" in messages[arn("net")]


def test_configured_deadlines_decide(session) -> None:
    enable(session, ["EC2"])
    serve(session, [finding("a", "CRITICAL", 5), finding("b", "HIGH", 10)])
    strict = AwsSettings(vulnerability_deadline_days={"critical": 3, "high": 7})
    snapshot = collect_aws(InspectorFindings, session, region=REGION, settings=strict)
    assert verdicts(findings_within_deadline, snapshot) == {(arn("a"), False), (arn("b"), False)}


def test_nothing_open_passes_only_where_inspector_scans(session) -> None:
    serve(session, [])
    # moto omits an account that never enabled Inspector; AWS reports it DISABLED
    serve_wire(
        session,
        "inspector2.BatchGetAccountStatus",
        account_status("DISABLED"),
        content_type="application/json",
    )
    off = collect_aws(InspectorFindings, session, region=REGION)
    assert verdicts(findings_within_deadline, off) == {(STATUS_ARN, False)}
    assert "scans nothing" in next(findings_within_deadline(off)).message


def test_nothing_open_where_inspector_scans_passes(session) -> None:
    enable(session, ["ECR"])
    serve(session, [])
    on = collect_aws(InspectorFindings, session, region=REGION)
    assert verdicts(findings_within_deadline, on) == {(STATUS_ARN, True)}


def test_a_finding_without_its_first_observed_time_is_an_error(session) -> None:
    enable(session, ["EC2"])
    broken = finding("x", "HIGH", 1)
    del broken["firstObservedAt"]
    serve(session, [broken])
    with pytest.raises(KeyError, match="firstObservedAt"):
        collect_aws(InspectorFindings, session, region=REGION)


def test_deadlines_need_both_severities() -> None:
    with pytest.raises(ValidationError, match="critical and high"):
        AwsSettings(vulnerability_deadline_days={"critical": 15})


def test_a_denied_list_is_an_error_not_a_verdict(session) -> None:
    enable(session, ["EC2"])
    denied = json.dumps({"message": "not authorized to perform inspector2:ListFindings"})

    def handler(request: object, **_: object) -> object:
        response = wire_response(request.url, denied.encode(), status=403)  # type: ignore[attr-defined]
        response.headers["x-amzn-ErrorType"] = "AccessDeniedException"
        return response

    session.events.register_first("before-send.inspector2.ListFindings", handler)
    with pytest.raises(ClientError, match="AccessDenied"):
        collect_aws(InspectorFindings, session, region=REGION)
