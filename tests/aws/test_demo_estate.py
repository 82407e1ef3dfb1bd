"""The demo estate: every AWS collector and check runs on it, with a mix of verdicts."""

from __future__ import annotations

import boto3

from checks.api import Finding
from collector.aws.demo_estate import DEMO_BUCKETS, install_wire_hooks, seed
from collector.collect import Target
from collector.registry import load_registry
from collector.testing import aws_cache
from tests.aws.wire import ACCOUNT

REGIONS = ("us-east-1", "eu-west-1")
CHECKS = {
    "aws.iam.root_mfa_enabled",
    "aws.iam.console_users_mfa",
    "aws.iam.access_keys_rotated",
    "aws.iam.password_policy_strong",
    "aws.s3.public_access_blocked",
    "aws.s3.default_encryption",
    "aws.cloudtrail.multi_region_logging",
    "aws.ec2.ebs_encryption_by_default",
}


def run_all(session: boto3.Session) -> dict[str, list[Finding]]:
    registry = load_registry(entry_point_packs=False)
    cache = aws_cache(session, registry=registry)
    results: dict[str, list[Finding]] = {}
    for spec in registry.select(provider="aws"):
        regions = REGIONS if registry.scope_of(spec) == "region" else REGIONS[:1]
        for region in regions:
            target = Target("aws", ACCOUNT, region)
            snapshots = {kind: cache.get(kind, target) for kind in spec.inputs}
            results.setdefault(spec.id, []).extend(spec.evaluate(snapshots))
    return results


def test_demo_estate_mixes_passing_and_failing(session: boto3.Session) -> None:
    seed(session)
    install_wire_hooks(session)

    results = run_all(session)

    assert set(results) >= CHECKS
    failing = {check for check in CHECKS if any(not f.passed for f in results[check])}
    passing = {check for check in CHECKS if any(f.passed for f in results[check])}
    assert failing == CHECKS - {"aws.cloudtrail.multi_region_logging"}
    assert len(passing) >= 5, passing
    assert "aws.cloudtrail.multi_region_logging" in passing


def test_demo_estate_verdicts_name_the_seeded_problems(session: boto3.Session) -> None:
    seed(session)
    install_wire_hooks(session, account=ACCOUNT)

    results = run_all(session)

    def failed(check: str) -> set[str]:
        return {f.resource for f in results[check] if not f.passed}

    user = f"arn:aws:iam::{ACCOUNT}:user/"
    assert failed("aws.iam.root_mfa_enabled") == {f"arn:aws:iam::{ACCOUNT}:root"}
    assert failed("aws.iam.console_users_mfa") == {user + "bob"}
    assert failed("aws.iam.access_keys_rotated") == {user + "ci-deploy#key1"}
    assert failed("aws.s3.public_access_blocked") == {
        "arn:aws:s3:::acme-public-website",
        "arn:aws:s3:::acme-legacy-exports",
    }
    assert failed("aws.s3.default_encryption") == {"arn:aws:s3:::acme-public-website"}
    assert failed("aws.ec2.ebs_encryption_by_default") == {
        f"arn:aws:ec2:eu-west-1:{ACCOUNT}:ebs-encryption-by-default"
    }
    assert failed("aws.s3.tls_only_policy") == {
        f"arn:aws:s3:::{b.name}" for b in DEMO_BUCKETS if not b.tls_only
    }
    mixed = {
        "aws.s3.tls_only_policy",
        "aws.s3.versioning_enabled",
        "aws.s3.access_logging_enabled",
        "aws.ec2.ebs_volumes_encrypted",
        "aws.ec2.no_admin_ports_open_to_internet",
        "aws.kms.key_rotation_enabled",
        "aws.dynamodb.pitr_enabled",
        "aws.tagging.required_tags",
        "aws.inspector.enabled",
    }
    for check in mixed:
        assert {f.passed for f in results[check]} == {True, False}, check
    [trail] = results["aws.cloudtrail.multi_region_logging"]
    assert trail.passed and "acme-org-trail" in trail.message
