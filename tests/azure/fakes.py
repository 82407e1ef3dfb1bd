"""Azure test helpers: recorded wire-format answers served with respx, a fake credential."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import httpx
import respx
from azure.core.credentials import AccessToken

from checks.api import Snapshot
from collector.azure.client import ARM_SCOPE, ARM_URL, GRAPH_SCOPE, GRAPH_URL, ApiClient
from collector.azure.scope import AzureScope
from collector.collect import Target
from collector.registry import Registry, load_registry
from collector.settings import AzureSettings
from collector.snapshots import SnapshotCache

S = TypeVar("S", bound=Snapshot)
TENANT = "00000000-0000-4000-8000-000000000001"
SUBSCRIPTION = "11111111-1111-4111-8111-111111111111"
SUB = f"/subscriptions/{SUBSCRIPTION}"
RG = f"{SUB}/resourceGroups/rg-prod/providers"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
RECORDINGS = Path(__file__).parent / "recordings"


def recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / name).read_text())  # type: ignore[no-any-return]


def fake_jwt(tenant: str = TENANT) -> str:
    """An unsigned JWT-shaped token carrying ``tid`` (the APIs are mocked; nothing verifies it)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none'})}.{part({'tid': tenant, 'aud': 'test'})}.sig"


class FakeCredential:
    """A TokenCredential for tests where the credential itself is not under test."""

    def __init__(self, tenant: str = TENANT) -> None:
        self.tenant = tenant
        self.scopes: list[str] = []

    def get_token(self, *scopes: str, **_: Any) -> AccessToken:
        self.scopes += scopes
        return AccessToken(fake_jwt(self.tenant), 4_102_444_800)


def serve(
    router: respx.MockRouter,
    url: str,
    name: str | None = None,
    *,
    status: int = 200,
    body: Any = None,
    headers: dict[str, str] | None = None,
    **params: str,
) -> respx.Route:
    """Answer GET ``url`` (with at least ``params`` in its query) with a recording or body."""
    content = recording(name) if name else body
    route = router.get(url, params=params or None)
    route.mock(return_value=httpx.Response(status, json=content, headers=headers))
    return route


def arm(path: str) -> str:
    return f"{ARM_URL}{path}"


def graph(path: str) -> str:
    return f"{GRAPH_URL}{path}"


@cache
def registry() -> Registry:
    return load_registry(entry_point_packs=False)


def azure_cache(
    provider: str = "azure",
    *,
    settings: AzureSettings | None = None,
    sleeps: list[float] | None = None,
) -> SnapshotCache:
    """A per-run snapshot cache whose scopes talk to the (mocked) ARM or Graph endpoints."""
    graph_api = provider != "azure"
    api = ApiClient(
        FakeCredential(),
        base_url=GRAPH_URL if graph_api else ARM_URL,
        scope=GRAPH_SCOPE if graph_api else ARM_SCOPE,
        sleep=(sleeps if sleeps is not None else []).append,
    )

    def make_scope(target: Target, cache: SnapshotCache) -> AzureScope:
        return AzureScope(
            target, api, cache, settings=settings or AzureSettings(), clock=lambda: NOW
        )

    return SnapshotCache(registry().collectors, make_scope)


def collect(kind: type[S], provider: str = "azure", **kwargs: Any) -> S:
    """Run the registered collector of ``kind`` once for the test subscription or tenant."""
    account = SUBSCRIPTION if provider == "azure" else TENANT
    return azure_cache(provider, **kwargs).get(kind, Target(provider, account))
