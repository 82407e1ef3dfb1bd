"""Least privilege, proven: every AWS call a check's collectors make is declared, and (on the
seeded demo estate) every declared permission is needed; the policy ``annexa permissions aws``
prints grants exactly that."""

from __future__ import annotations

from collections import defaultdict

import boto3
import pytest

from checks.api import CheckSpec
from collector.aws.demo_estate import install_wire_hooks, seed
from collector.aws.permissions import iam_action, policy_document
from collector.collect import Target
from collector.registry import Registry, load_registry
from collector.settings import AwsSettings
from collector.testing import aws_cache
from tests.aws.errors import CallLog
from tests.aws.wire import ACCOUNT

REGION = "us-east-1"
#: Declared permissions the demo estate cannot exercise under moto, each with the reason.
#: Everything else a check declares must be called on the estate.
UNEXERCISED: dict[str, str] = {}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(entry_point_packs=False)


def seed_the_rest(session: boto3.Session) -> None:
    """What the demo estate leaves out, so every per-resource call is made: inline and
    customer-managed IAM policies, a trail delivering to CloudWatch Logs with a metric filter
    and an alarm, and a load balancer with a listener."""
    iam = session.client("iam")
    document = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}'
    )
    iam.put_user_policy(UserName="bob", PolicyName="inline", PolicyDocument=document)
    arn = iam.create_policy(PolicyName="custom", PolicyDocument=document)["Policy"]["Arn"]
    iam.attach_user_policy(UserName="bob", PolicyArn=arn)
    logs = session.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="trail-logs")
    group = logs.describe_log_groups()["logGroups"][0]["arn"]
    logs.put_metric_filter(
        logGroupName="trail-logs",
        filterName="root-usage",
        filterPattern='{ $.userIdentity.type = "Root" }',
        metricTransformations=[
            {"metricName": "RootUsage", "metricNamespace": "CIS", "metricValue": "1"}
        ],
    )
    session.client("cloudwatch", region_name=REGION).put_metric_alarm(
        AlarmName="root-usage",
        MetricName="RootUsage",
        Namespace="CIS",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    role = iam.create_role(RoleName="trail-to-logs", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    session.client("cloudtrail", region_name=REGION).update_trail(
        Name="acme-org-trail",
        CloudWatchLogsLogGroupArn=group if group.endswith(":*") else group + ":*",
        CloudWatchLogsRoleArn=role,
    )
    ec2 = session.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=f"{REGION}{z}")
        for i, z in ((1, "a"), (2, "b"))
    ]
    elb = session.client("elbv2", region_name=REGION)
    balancer = elb.create_load_balancer(
        Name="web", Subnets=[s["Subnet"]["SubnetId"] for s in subnets]
    )["LoadBalancers"][0]["LoadBalancerArn"]
    group_arn = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc)[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=balancer,
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group_arn}],
    )


@pytest.fixture
def used(session: boto3.Session, registry: Registry) -> dict[str, tuple[set[str], str | None]]:
    """Per check reading AWS (its own, or a cross-provider check's AWS inputs): the IAM actions
    its AWS collectors' calls needed on the seeded estate, and the error (if collection
    failed) — checks with the same inputs share one collection."""
    seed(session)
    seed_the_rest(session)
    install_wire_hooks(session, account=ACCOUNT)
    calls = CallLog()
    calls.watch(session, ACCOUNT)
    by_inputs: dict[frozenset[type], tuple[set[str], str | None]] = {}
    result = {}
    for spec in _reading_aws(registry):
        inputs = frozenset(k for k in spec.inputs if k.provider == "aws")
        if inputs not in by_inputs:
            calls.calls.clear()
            by_inputs[inputs] = (set(), _collect(inputs, session, registry))
            by_inputs[inputs][0].update(
                iam_action(c.service, c.operation, signing_name=c.signing_name) for c in calls.calls
            )
        result[spec.id] = by_inputs[inputs]
    return result


def _reading_aws(registry: Registry) -> list[CheckSpec]:
    return sorted((c for c in registry.checks.values() if "aws" in c.providers), key=lambda c: c.id)


def _collect(inputs: frozenset[type], session: boto3.Session, registry: Registry) -> str | None:
    cache = aws_cache(session, registry=registry, home_region=REGION)
    try:
        for kind in inputs:
            cache.get(kind, Target("aws", ACCOUNT, REGION))
    except Exception as exc:  # reported by the test
        return f"{type(exc).__name__}: {exc}"
    return None


def test_every_call_is_declared_and_every_declared_permission_is_needed(registry, used) -> None:
    """Over the whole registry, so it keeps guarding as checks are added."""
    undeclared = {
        check: sorted(actions - set(registry.permissions_for(registry.checks[check], "aws")))
        for check, (actions, _) in used.items()
    }
    assert {c: a for c, a in undeclared.items() if a} == {}
    assert len(used) == len(_reading_aws(registry)) > len(registry.select(provider="aws")) >= 8

    unused: dict[str, list[str]] = defaultdict(list)
    for check, (actions, error) in used.items():
        for permission in registry.permissions_for(registry.checks[check], "aws"):
            if permission not in actions and permission not in UNEXERCISED:
                unused[check].append(f"{permission} (collection: {error or 'ok'})")
    assert dict(unused) == {}


def test_the_printed_policy_is_exactly_the_declared_actions(registry) -> None:
    checks = _reading_aws(registry)
    declared = {p for c in checks for p in registry.permissions_for(c, "aws")}

    policy = policy_document(declared)

    (statement,) = policy["Statement"]
    # by default every enabled region is audited, found with ec2:DescribeRegions
    assert set(statement["Action"]) == declared | {"sts:GetCallerIdentity", "ec2:DescribeRegions"}
    assert statement["Resource"] == "*"
    read_only = ("Get", "List", "Describe", "GenerateCredentialReport", "BatchGet", "Search")
    writes = [a for a in statement["Action"] if not a.split(":")[1].startswith(read_only)]
    assert writes == []


def test_role_and_organization_permissions_belong_to_the_base_identity() -> None:
    settings = AwsSettings.model_validate(
        {
            "accounts": [{"role_arn": "arn:aws:iam::111122223333:role/Audit"}],
            "organization": {"role_name": "AnnexaAudit"},
            "regions": "all",
        }
    )

    statements = {
        s["Sid"]: s for s in policy_document(["s3:ListAllMyBuckets"], settings)["Statement"]
    }

    assert statements["AnnexaReadOnly"]["Action"] == [
        "ec2:DescribeRegions",
        "s3:ListAllMyBuckets",
        "sts:GetCallerIdentity",
    ]
    assert statements["AnnexaListAccounts"]["Action"] == ["organizations:ListAccounts"]
    assert statements["AnnexaAssumeRoles"] == {
        "Sid": "AnnexaAssumeRoles",
        "Effect": "Allow",
        "Action": ["sts:AssumeRole"],
        "Resource": ["arn:aws:iam::111122223333:role/Audit", "arn:aws:iam::*:role/AnnexaAudit"],
    }
    assert [s["Sid"] for s in policy_document([], AwsSettings())["Statement"]] == ["AnnexaReadOnly"]


@pytest.mark.parametrize(
    ("service", "operation", "signing", "action"),
    [
        ("s3", "ListBuckets", "s3", "s3:ListAllMyBuckets"),
        ("s3", "GetBucketEncryption", "s3", "s3:GetEncryptionConfiguration"),
        ("s3", "GetPublicAccessBlock", "s3", "s3:GetBucketPublicAccessBlock"),
        ("s3control", "GetPublicAccessBlock", "s3", "s3:GetAccountPublicAccessBlock"),
        ("s3", "GetBucketPolicy", "s3", "s3:GetBucketPolicy"),
        (
            "elbv2",
            "DescribeLoadBalancers",
            "elasticloadbalancing",
            "elasticloadbalancing:DescribeLoadBalancers",
        ),
        ("accessanalyzer", "ListAnalyzers", "access-analyzer", "access-analyzer:ListAnalyzers"),
        ("resourcegroupstaggingapi", "GetResources", "tagging", "tag:GetResources"),
        ("cloudwatch", "DescribeAlarms", "monitoring", "cloudwatch:DescribeAlarms"),
        ("inspector2", "ListCoverage", "inspector2", "inspector2:ListCoverage"),
        ("cloudtrail", "GetTrailStatus", "cloudtrail", "cloudtrail:GetTrailStatus"),
    ],
)
def test_iam_action_of_a_call(service, operation, signing, action) -> None:
    assert iam_action(service, operation, signing_name=signing) == action
