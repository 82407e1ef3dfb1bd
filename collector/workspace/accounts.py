"""Resolve the configured Workspace domain into an account. The delegated token is fetched
here, once, so a rejected key or a missing delegation is one ERROR cause for every Workspace
check (and no other provider's)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from google.auth.credentials import Credentials

from collector.accounts import Account
from collector.causes import describe_error
from collector.clock import utcnow
from collector.collect import Target
from collector.http import ApiScope, HttpClient, RetryObserver, bearer
from collector.settings import Settings, WorkspaceSettings
from collector.snapshots import SnapshotCache
from collector.workspace.auth import delegated_credentials, token_source
from collector.workspace.directory import MOBILE_READONLY, USER_READONLY
from collector.workspace.reports import REPORTS_READONLY

ADMIN_URL = "https://admin.googleapis.com"
_DELEGATION_HINT = (
    " (authorise the service account's client id for the scope in Admin console > Security > "
    "API controls > Domain-wide delegation)"
)


def workspace_accounts(
    settings: Settings, *, observe: RetryObserver | None = None
) -> list[Account]:
    """Provider hook for ``workspace``: the configured domain, when configured."""
    return resolve_accounts(settings.workspace, observe=observe)


def _credentials(settings: WorkspaceSettings, scope: str = USER_READONLY) -> Credentials:
    assert settings.key_file and settings.admin_email  # resolve_accounts checks both
    return delegated_credentials(settings.key_file, settings.admin_email, scope)


class WorkspaceScope(ApiScope[WorkspaceSettings]):
    """A Workspace target: ``api`` acts with the Directory user scope; ``reports`` with the
    Reports audit scope and ``devices`` with the mobile devices scope, each token fetched on
    first use so a missing delegation for it is an ERROR of the checks that need it only."""

    def __init__(self, *args: Any, reports: HttpClient, devices: HttpClient, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reports = reports
        self.devices = devices


def resolve_accounts(
    settings: WorkspaceSettings,
    *,
    credential_factory: Callable[..., Credentials] = _credentials,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    http: httpx.Client | None = None,
    observe: RetryObserver | None = None,
) -> list[Account]:
    """One account (the domain, else the customer id); none when Workspace is not configured."""
    if not settings.enabled or not (settings.admin_email and settings.key_file):
        return []
    label = settings.domain or settings.customer
    transport = http or httpx.Client(timeout=settings.timeout)
    try:
        token = token_source(credential_factory(settings), transport)
        token()  # fail here, once, when the key or its delegation is rejected
    except Exception as exc:
        cause = describe_error(exc)
        hint = _DELEGATION_HINT if "unauthorized_client" in cause else ""
        return [Account("workspace", label, error=f"cannot access Google Workspace: {cause}{hint}")]

    def client(auth_token: Callable[[], str], service: str) -> HttpClient:
        return HttpClient(
            base_url=ADMIN_URL,
            auth=bearer(auth_token),
            timeout=settings.timeout,
            max_attempts=settings.max_attempts,
            sleep=sleep,
            http=http,
            on_retryable=observe,
            rate_key=("workspace", label, service),
        )

    api = client(token, "directory")

    def delegated(scope: str, service: str) -> HttpClient:
        """A client whose token for ``scope`` is fetched on its first request."""
        source = functools.cache(
            lambda: token_source(credential_factory(settings, scope), transport)
        )
        return client(lambda: source()(), service)

    reports = delegated(REPORTS_READONLY, "reports")
    devices = delegated(MOBILE_READONLY, "devices")

    def make_scope(target: Target, cache: SnapshotCache) -> ApiScope[WorkspaceSettings]:
        return WorkspaceScope(
            target, api, cache, settings=settings, clock=clock, reports=reports, devices=devices
        )

    return [Account("workspace", label, make_scope=make_scope)]
