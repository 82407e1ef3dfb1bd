"""Resolve configured GCP scopes into accounts: one per organisation, folder or project.

Credentials come from Application Default Credentials, a service-account key file, or a
workload identity federation (``external_account``) config file. They are loaded and, when not
yet valid, refreshed once here, so a rejected credential is one clear cause stored as ERROR for
every GCP check (and no other provider's).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import google.auth
from google.api_core.client_options import ClientOptions
from google.auth import aws, external_account_authorized_user, identity_pool, pluggable
from google.auth.credentials import Credentials
from google.auth.transport.requests import Request
from google.cloud.asset_v1 import AssetServiceClient
from google.oauth2 import service_account

from collector.accounts import Account
from collector.causes import describe_error
from collector.clock import utcnow
from collector.collect import Target
from collector.gcp.scope import GcpScope
from collector.settings import GcpSettings, Settings
from collector.snapshots import SnapshotCache

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
#: The credential file ``type`` each credentials setting accepts.
FILE_TYPES = {
    "service_account_file": ("service_account",),
    "workload_identity_federation": ("external_account", "external_account_authorized_user"),
}


def gcp_accounts(settings: Settings) -> list[Account]:
    """Provider hook for ``gcp``: one account per configured scope."""
    return resolve_accounts(settings.gcp)


def load_credentials(settings: GcpSettings) -> Credentials:
    """The configured credentials, scoped to cloud-platform (read-only use only).

    A key file is loaded by the class its ``type`` names (never the generic loader, which
    would accept any credential kind the file claims)."""
    if settings.credentials == "adc":
        credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM])
        return credentials
    assert settings.key_file is not None  # the settings validator requires it
    path = str(settings.key_file)
    info = json.loads(settings.key_file.read_text())
    kind = info.get("type")
    if kind not in FILE_TYPES[settings.credentials]:
        expected = " or ".join(FILE_TYPES[settings.credentials])
        raise ValueError(f"{path} has type {kind!r}, expected {expected}")
    if kind == "service_account":
        return service_account.Credentials.from_service_account_file(path, scopes=[CLOUD_PLATFORM])
    if kind == "external_account_authorized_user":
        return external_account_authorized_user.Credentials.from_file(path, scopes=[CLOUD_PLATFORM])
    source = info.get("credential_source", {})
    if str(source.get("environment_id", "")).startswith("aws"):
        return aws.Credentials.from_file(path, scopes=[CLOUD_PLATFORM])
    if "executable" in source:
        return pluggable.Credentials.from_file(path, scopes=[CLOUD_PLATFORM])
    return identity_pool.Credentials.from_file(path, scopes=[CLOUD_PLATFORM])


def make_client(credentials: Credentials, settings: GcpSettings) -> AssetServiceClient:
    """The Cloud Asset client (REST transport) that every scope of the run shares."""
    options = ClientOptions(
        api_endpoint=settings.api_endpoint, quota_project_id=settings.quota_project
    )
    return AssetServiceClient(transport="rest", credentials=credentials, client_options=options)


def make_security_center(credentials: Credentials, settings: GcpSettings) -> Any:
    """The Security Command Center client (REST transport), made on first use."""
    from google.cloud.securitycenter_v2 import SecurityCenterClient

    options = ClientOptions(
        api_endpoint=settings.security_center_endpoint, quota_project_id=settings.quota_project
    )
    return SecurityCenterClient(transport="rest", credentials=credentials, client_options=options)


def resolve_accounts(
    settings: GcpSettings,
    *,
    credential_factory: Callable[[GcpSettings], Credentials] = load_credentials,
    clock: Callable[[], datetime] = utcnow,
) -> list[Account]:
    """One :class:`Account` per scope; a credential failure marks them all with ``error``."""
    if not settings.enabled or not settings.scopes:
        return []
    scopes = list(dict.fromkeys(settings.scopes))
    try:
        credentials = credential_factory(settings)
        if not credentials.valid:
            credentials.refresh(Request())
        client = make_client(credentials, settings)
    except Exception as exc:
        cause = f"cannot authenticate to Google Cloud: {describe_error(exc)}"
        return [Account("gcp", scope, error=cause) for scope in scopes]

    security_center = functools.cache(lambda: make_security_center(credentials, settings))

    def make_scope(target: Target, cache: SnapshotCache) -> GcpScope:
        return GcpScope(
            target,
            client,
            cache,
            settings=settings,
            clock=clock,
            security_center=security_center,
        )

    identity = getattr(credentials, "service_account_email", None) or "application default"
    return [Account("gcp", scope, make_scope=make_scope, identity=identity) for scope in scopes]
