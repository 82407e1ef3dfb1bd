"""Resolve the configured Fleet server into an account. The token is tried once here
(``/api/v1/fleet/me``), so a rejected token is one ERROR cause for the Fleet checks only."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from collector.accounts import Account
from collector.causes import describe_error
from collector.clock import utcnow
from collector.collect import Target
from collector.http import ApiScope, HttpClient, RetryObserver, bearer
from collector.settings import FleetSettings, Settings
from collector.snapshots import SnapshotCache


def fleet_accounts(settings: Settings, *, observe: RetryObserver | None = None) -> list[Account]:
    """Provider hook for ``fleet``: the configured server, when configured."""
    return resolve_accounts(settings.fleet, observe=observe)


def resolve_accounts(
    settings: FleetSettings,
    *,
    environ: Mapping[str, str] = os.environ,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    http: httpx.Client | None = None,
    observe: RetryObserver | None = None,
) -> list[Account]:
    """One account named by the server's host; none when Fleet is not configured."""
    if not settings.enabled or not settings.base_url:
        return []
    server = urlsplit(settings.base_url).netloc
    token = environ.get(settings.token_env)
    if not token:
        cause = (
            f"cannot access Fleet {server}: environment variable {settings.token_env} is not set"
        )
        return [Account("fleet", server, error=cause)]
    api = HttpClient(
        base_url=settings.base_url,
        auth=bearer(lambda: token),
        timeout=settings.timeout,
        max_attempts=settings.max_attempts,
        sleep=sleep,
        http=http,
        on_retryable=observe,
        rate_key=("fleet", server, "api"),
    )
    try:
        api.get("/api/v1/fleet/me")
    except Exception as exc:  # recorded as ERROR for every Fleet check of the server
        return [
            Account("fleet", server, error=f"cannot access Fleet {server}: {describe_error(exc)}")
        ]

    def make_scope(target: Target, cache: SnapshotCache) -> ApiScope[FleetSettings]:
        return ApiScope(target, api, cache, settings=settings, clock=clock)

    return [Account("fleet", server, make_scope=make_scope)]
