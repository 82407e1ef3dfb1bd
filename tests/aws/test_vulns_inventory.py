"""Inspector, ECR scanning and required tags (per region) under moto and real wire answers."""

from __future__ import annotations

import json

import boto3
import pytest

from checks.aws.ecr import EcrRepositories, scan_on_push
from checks.aws.inspector import InspectorStatus, inspector_enabled
from checks.aws.tagging import TaggedResources, required_tags
from checks.testing import findings, verdicts
from collector.settings import AwsSettings
from collector.testing import collect_aws
from tests.aws.wire import ACCOUNT, serve_wire

REGION = "eu-west-1"
STATUS_ARN = f"arn:aws:inspector2:{REGION}:{ACCOUNT}:account-status"


def account_status(status: str, **resources: str) -> bytes:
    """A BatchGetAccountStatus answer as inspector2 (REST-JSON) sends it."""
    kinds = {"ec2": status, "ecr": status, "lambda": status, "lambdaCode": status} | resources
    return json.dumps(
        {
            "accounts": [
                {
                    "accountId": ACCOUNT,
                    "resourceState": {k: {"status": v} for k, v in kinds.items()},
                    "state": {"status": status},
                }
            ],
            "failedAccounts": [],
        }
    ).encode()


def test_inspector_enabled_for_ec2_and_ecr(session: boto3.Session) -> None:
    inspector = session.client("inspector2", region_name=REGION)
    inspector.enable(accountIds=[ACCOUNT], resourceTypes=["EC2", "ECR"])
    snapshot = collect_aws(InspectorStatus, session, region=REGION)
    assert verdicts(inspector_enabled, snapshot) == {(STATUS_ARN, True)}


def test_inspector_ec2_only_fails(session: boto3.Session) -> None:
    session.client("inspector2", region_name=REGION).enable(
        accountIds=[ACCOUNT], resourceTypes=["EC2"]
    )
    [finding] = findings(inspector_enabled, collect_aws(InspectorStatus, session, region=REGION))
    assert not finding.passed
    assert "ecr: DISABLED" in finding.message and "ec2: ENABLED" in finding.message


def test_never_enabled_as_aws_answers_it(session: boto3.Session) -> None:
    # moto omits an account that never enabled Inspector; AWS reports it DISABLED
    serve_wire(
        session,
        "inspector2.BatchGetAccountStatus",
        account_status("DISABLED"),
        content_type="application/json",
    )
    snapshot = collect_aws(InspectorStatus, session, region=REGION)
    assert verdicts(inspector_enabled, snapshot) == {(STATUS_ARN, False)}
    assert snapshot.state == "DISABLED"


def test_failed_account_is_an_error_not_a_verdict(session: boto3.Session) -> None:
    body = json.dumps(
        {
            "accounts": [],
            "failedAccounts": [
                {"accountId": ACCOUNT, "errorCode": "ACCESS_DENIED", "errorMessage": "denied"}
            ],
        }
    ).encode()
    serve_wire(session, "inspector2.BatchGetAccountStatus", body, content_type="application/json")
    with pytest.raises(ValueError, match="ACCESS_DENIED denied"):
        collect_aws(InspectorStatus, session, region=REGION)


def test_ecr_scan_on_push(session: boto3.Session) -> None:
    ecr = session.client("ecr", region_name=REGION)

    def repo(name: str, on_push: bool) -> str:
        reply = ecr.create_repository(
            repositoryName=name, imageScanningConfiguration={"scanOnPush": on_push}
        )
        return reply["repository"]["repositoryArn"]

    scanned, unscanned, team = repo("api", True), repo("batch", False), repo("team-a/web", False)

    basic = collect_aws(EcrRepositories, session, region=REGION)
    assert verdicts(scan_on_push, basic) == {(scanned, True), (unscanned, False), (team, False)}

    ecr.put_registry_scanning_configuration(
        scanType="ENHANCED",
        rules=[
            {
                "scanFrequency": "CONTINUOUS_SCAN",
                "repositoryFilters": [{"filter": "team-*", "filterType": "WILDCARD"}],
            }
        ],
    )
    enhanced = collect_aws(EcrRepositories, session, region=REGION)
    # enhanced scanning ignores the repository setting: only the rule's filter counts
    assert verdicts(scan_on_push, enhanced) == {(scanned, False), (unscanned, False), (team, True)}


def test_required_tag_keys_from_settings(session: boto3.Session) -> None:
    ec2 = session.client("ec2", region_name=REGION)
    vpcs = {
        name: ec2.create_vpc(
            CidrBlock=cidr,
            TagSpecifications=[
                {"ResourceType": "vpc", "Tags": [{"Key": k, "Value": f"{k}-value"} for k in keys]}
            ],
        )["Vpc"]["VpcId"]
        for name, cidr, keys in [
            ("full", "10.1.0.0/16", ["owner", "classification", "cost-centre"]),
            ("partial", "10.2.0.0/16", ["owner"]),
            ("wrong-case", "10.3.0.0/16", ["Owner", "classification"]),
        ]
    }
    arn = {n: f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{v}" for n, v in vpcs.items()}

    snapshot = collect_aws(TaggedResources, session, region=REGION)

    assert snapshot.required_tags == ("owner", "classification")
    assert verdicts(required_tags, snapshot) == {
        (arn["full"], True),
        (arn["partial"], False),
        (arn["wrong-case"], False),
    }
    assert "value" not in snapshot.model_dump_json()  # keys only, never values
    messages = {f.resource: f.message for f in findings(required_tags, snapshot)}
    assert messages[arn["partial"]] == "missing tag(s): classification"

    owner_only = AwsSettings(required_tags=["owner"])
    relaxed = collect_aws(TaggedResources, session, region=REGION, settings=owner_only)
    assert relaxed.required_tags == ("owner",)
    assert verdicts(required_tags, relaxed) == {
        (arn["full"], True),
        (arn["partial"], True),
        (arn["wrong-case"], False),
    }
