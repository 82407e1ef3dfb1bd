"""Resolve the configured Okta org into an account. The credential is tried here, once (a
cheap call), so a rejected token is one ERROR cause for every Okta check and no other's."""

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
from collector.http import ApiScope, HttpClient, RetryObserver, rate_limit_reset_wait
from collector.okta.auth import api_token, service_app
from collector.settings import OktaSettings, Settings
from collector.snapshots import SnapshotCache

#: Okta's per-minute rate-limit windows reset within 60 s: a shorter cap would retry too soon.
MAX_SLEEP = 60.0
#: The call that proves the credential works (one user; okta.users.read).
PROBE = "/api/v1/users"


def okta_accounts(settings: Settings, *, observe: RetryObserver | None = None) -> list[Account]:
    """Provider hook for ``okta``: the configured org, when configured."""
    return resolve_accounts(settings.okta, observe=observe)


def resolve_accounts(
    settings: OktaSettings,
    *,
    environ: Mapping[str, str] = os.environ,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    epoch: Callable[[], float] = time.time,
    http: httpx.Client | None = None,
    observe: RetryObserver | None = None,
) -> list[Account]:
    """One account named by the org's host (``example.okta.com``); none when not configured."""
    if not settings.enabled or not settings.org_url:
        return []
    org = urlsplit(settings.org_url).netloc

    def client(auth: Callable[[], Mapping[str, str]] | None) -> HttpClient:
        return HttpClient(
            base_url=settings.org_url or "",
            auth=auth,
            timeout=settings.timeout,
            max_attempts=settings.max_attempts,
            max_sleep=MAX_SLEEP,
            wait=rate_limit_reset_wait,
            sleep=sleep,
            clock=epoch,
            http=http,
            on_retryable=observe,
            rate_key=("okta", org, "api"),
        )

    try:
        if settings.auth == "private_key_jwt":
            auth = service_app(settings, client(None), epoch)
        else:
            auth = api_token(settings, environ)
        api = client(auth)
        api.get_json(PROBE, params={"limit": "1"}, requires="okta.users.read")
    except Exception as exc:  # recorded as ERROR for every Okta check of the org
        return [Account("okta", org, error=f"cannot access Okta org {org}: {describe_error(exc)}")]

    def make_scope(target: Target, cache: SnapshotCache) -> ApiScope[OktaSettings]:
        return ApiScope(target, api, cache, settings=settings, clock=clock)

    who = f"client {settings.client_id}" if settings.auth == "private_key_jwt" else "API token"
    return [Account("okta", org, make_scope=make_scope, identity=who)]
