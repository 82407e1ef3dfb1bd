"""Fixtures: the recorded organisation served on 127.0.0.1 to the real AssetServiceClient."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from google.auth.credentials import AnonymousCredentials

from checks.api import Snapshot
from collector.accounts import Account
from collector.collect import Target
from collector.gcp.accounts import resolve_accounts
from collector.registry import Registry, load_registry
from collector.settings import GcpSettings
from collector.snapshots import SnapshotCache
from tests.gcp.server import ORG, AssetApi, org_routes, serve

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(entry_point_packs=False)


@pytest.fixture
def api() -> AssetApi:
    return AssetApi(org_routes())


@pytest.fixture
def endpoint(api: AssetApi) -> Iterator[str]:
    with serve(api) as url:
        yield url


def anonymous_accounts(endpoint: str, scopes: list[str] | None = None) -> list[Account]:
    settings = GcpSettings(
        scopes=scopes or [ORG], api_endpoint=endpoint, security_center_endpoint=endpoint
    )
    return resolve_accounts(
        settings, credential_factory=lambda _: AnonymousCredentials(), clock=lambda: NOW
    )


@pytest.fixture
def collect(endpoint: str, registry: Registry) -> Callable[[type[Snapshot]], Snapshot]:
    """Collect a snapshot for the organisation through the resolved account's scope."""
    (account,) = anonymous_accounts(endpoint)
    assert account.make_scope is not None
    cache = SnapshotCache(registry.collectors, account.make_scope)
    return lambda kind: cache.get(kind, Target("gcp", ORG))
