"""A run reads only the S3 settings its checks judge (``collects(parts=...)``), and each check
judges its own parts exactly as it judges a full read."""

from __future__ import annotations

import types
from collections import Counter
from collections.abc import Iterable, Iterator

import boto3
import pytest

import checks.aws.s3 as s3_checks
import collector.aws.s3 as s3_collector
from checks.api import Finding, Snapshot, check
from checks.aws.models import S3_SETTINGS, S3Buckets
from checks.testing import verdicts
from collector.aws.demo_estate import install_wire_hooks, seed
from collector.aws.scope import AwsScope
from collector.collect import Target, collects
from collector.errors import UserError
from collector.registry import build_registry, load_registry
from collector.snapshots import SnapshotCache
from tests.aws.errors import CallLog
from tests.aws.wire import ACCOUNT

REGISTRY = load_registry(entry_point_packs=False)
S3_CHECKS = sorted(c.id for c in REGISTRY.checks.values() if S3Buckets in c.inputs)


@pytest.fixture
def estate(session: boto3.Session) -> boto3.Session:
    seed(session)
    install_wire_hooks(session, account=ACCOUNT)
    return session


def read_for(session: boto3.Session, check_ids: Iterable[str]) -> tuple[S3Buckets, Counter[str]]:
    """The S3 snapshot as a run of ``check_ids`` reads it, and the calls it made."""
    calls = CallLog()
    calls.watch(session, ACCOUNT)
    parts = REGISTRY.parts_needed(REGISTRY.checks[i] for i in check_ids)

    def make_scope(target: Target, cache: SnapshotCache) -> AwsScope:
        return AwsScope(target, session, cache, home_region="us-east-1")

    cache = SnapshotCache(REGISTRY.collectors, make_scope, parts)
    snapshot = cache.get(S3Buckets, Target("aws", ACCOUNT))
    return snapshot, Counter(c.operation for c in calls.calls)


def test_default_encryption_alone_reads_one_setting_per_bucket(estate) -> None:
    snapshot, calls = read_for(estate, ["aws.s3.default_encryption"])

    assert len(snapshot.buckets) >= 3
    assert calls == Counter({"ListBuckets": 1, "GetBucketEncryption": len(snapshot.buckets)})
    assert snapshot.read == ("encryption",)


def test_every_s3_check_together_reads_every_setting(estate) -> None:
    snapshot, calls = read_for(estate, S3_CHECKS)

    assert snapshot.read == S3_SETTINGS
    n = len(snapshot.buckets)
    assert calls == Counter(
        {
            "ListBuckets": 1,
            "GetPublicAccessBlock": 1 + n,  # the account's (S3 Control) and each bucket's
            "GetBucketEncryption": n,
            "GetBucketPolicy": n,
            "GetBucketVersioning": n,
            "GetBucketLogging": n,
            "GetBucketLifecycleConfiguration": n,
        }
    )


def test_each_check_judges_its_own_parts_as_a_full_read(estate) -> None:
    full, _ = read_for(estate, S3_CHECKS)
    for check_id in S3_CHECKS:
        judge = REGISTRY.checks[check_id].func
        own, _ = read_for(estate, [check_id])

        assert set(own.read) < set(S3_SETTINGS), check_id
        assert verdicts(judge, own) == verdicts(judge, full), check_id


@check(id="acme.s3.named", title="Buckets are named by policy", severity="low")
def named(buckets: S3Buckets) -> Iterator[Finding]:
    for bucket in buckets.buckets:
        yield Finding(resource=bucket.arn, passed=bucket.name.islower(), message=bucket.name)


def test_a_check_the_collector_does_not_list_gets_every_part() -> None:
    module = types.ModuleType("acme_pack")
    module.named = named  # type: ignore[attr-defined]
    named.__module__ = module.__name__
    registry = build_registry([("builtin", s3_collector), ("builtin", s3_checks), ("acme", module)])

    alone = registry.parts_needed([registry.checks["acme.s3.named"]])
    beside = registry.parts_needed(
        [registry.checks["acme.s3.named"], registry.checks["aws.s3.default_encryption"]]
    )

    assert alone == beside == {S3Buckets: frozenset(S3_SETTINGS)}


class Lab(Snapshot):
    size: int


def test_parts_naming_a_check_that_does_not_read_the_snapshot_fail_the_load() -> None:
    @collects(Lab, permissions=[], parts={"aws.s3.default_encryption": ["size"]})
    def lab(scope: object) -> Lab:
        return Lab(size=1)

    module = types.ModuleType("lab_pack")
    module.lab = lab  # type: ignore[attr-defined]
    lab.__module__ = module.__name__
    with pytest.raises(UserError, match="not a check reading Lab"):
        build_registry([("builtin", s3_checks), ("builtin", s3_collector), ("lab", module)])
