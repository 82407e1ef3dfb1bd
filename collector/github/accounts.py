"""Resolve the configured GitHub organisations into accounts. The credential is tried once
per organisation here (``GET /orgs/{org}``, which also exchanges the App's installation
token), so a rejected credential is one ERROR cause for that organisation's checks only."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime

import httpx

from collector.accounts import Account
from collector.causes import describe_error
from collector.clock import utcnow
from collector.collect import Target
from collector.github.auth import app_auth, rate_limit_wait, rate_limited, token_auth
from collector.http import ApiScope, Auth, HttpClient, RetryObserver
from collector.settings import GithubSettings, Settings
from collector.snapshots import SnapshotCache

#: GitHub's secondary limits ask for a minute; primary ones may reset later (then retried).
MAX_SLEEP = 60.0


def github_accounts(settings: Settings, *, observe: RetryObserver | None = None) -> list[Account]:
    """Provider hook for ``github``: one account per configured organisation."""
    return resolve_accounts(settings.github, observe=observe)


def resolve_accounts(
    settings: GithubSettings,
    *,
    environ: Mapping[str, str] = os.environ,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    epoch: Callable[[], float] = time.time,
    http: httpx.Client | None = None,
    observe: RetryObserver | None = None,
) -> list[Account]:
    """An account per organisation login; none when GitHub is not configured."""
    if not settings.enabled:
        return []

    def client(auth: Auth | None, org: str) -> HttpClient:
        return HttpClient(
            base_url=settings.api_url,
            auth=auth,
            timeout=settings.timeout,
            max_attempts=settings.max_attempts,
            max_sleep=MAX_SLEEP,
            wait=rate_limit_wait,
            throttled=rate_limited,
            sleep=sleep,
            clock=epoch,
            http=http,
            on_retryable=observe,
            rate_key=("github", org, "api"),
        )

    accounts = []
    for org in settings.organizations:
        try:
            if settings.auth == "app":
                assert settings.app_id and settings.private_key_file  # validated settings
                auth = app_auth(
                    functools.partial(client, org=org),
                    settings.app_id,
                    settings.private_key_file,
                    org,
                    settings.installation_id,
                    epoch,
                )
            else:
                auth = token_auth(settings.token_env, environ)
            api = client(auth, org)
            api.get(f"/orgs/{org}")
        except Exception as exc:  # recorded as ERROR for every check of this organisation
            cause = f"cannot access GitHub organization {org}: {describe_error(exc)}"
            accounts.append(Account("github", org, error=cause))
            continue
        who = f"app {settings.app_id}" if settings.auth == "app" else "token"
        accounts.append(
            Account("github", org, make_scope=_scopes(api, settings, clock), identity=who)
        )
    return accounts


def _scopes(
    api: HttpClient, settings: GithubSettings, clock: Callable[[], datetime]
) -> Callable[[Target, SnapshotCache], ApiScope[GithubSettings]]:
    def make_scope(target: Target, cache: SnapshotCache) -> ApiScope[GithubSettings]:
        return ApiScope(target, api, cache, settings=settings, clock=clock)

    return make_scope
