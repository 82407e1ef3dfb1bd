"""Helpers for testing collectors against moto or recorded responses."""

from __future__ import annotations

from typing import TypeVar

import boto3

from checks.api import Snapshot
from collector.aws.scope import AwsScope
from collector.collect import Target
from collector.registry import Registry, load_registry
from collector.settings import AwsSettings
from collector.snapshots import SnapshotCache

S = TypeVar("S", bound=Snapshot)


def aws_cache(
    session: boto3.Session,
    *,
    home_region: str = "us-east-1",
    registry: Registry | None = None,
    settings: AwsSettings | None = None,
) -> SnapshotCache:
    """A fresh per-run snapshot cache over ``session`` (e.g. under moto's ``mock_aws``)."""
    registry = registry or load_registry(entry_point_packs=False)

    def make_scope(target: Target, cache: SnapshotCache) -> AwsScope:
        return AwsScope(target, session, cache, home_region=home_region, settings=settings)

    return SnapshotCache(registry.collectors, make_scope)


def collect_aws(
    kind: type[S],
    session: boto3.Session | None = None,
    *,
    account: str = "123456789012",
    region: str = "us-east-1",
    settings: AwsSettings | None = None,
) -> S:
    """Run the registered collector of ``kind`` once for one account and region."""
    session = session or boto3.Session(region_name=region)
    cache = aws_cache(session, home_region=region, settings=settings)
    return cache.get(kind, Target("aws", account, region))
