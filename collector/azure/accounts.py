"""Resolve configured tenants into accounts: subscriptions for ``azure``, the tenant for
``entra`` and ``intune``. A tenant or subscription that cannot be read becomes an account with
``error``, so its checks are stored as ERROR while the others run."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from datetime import datetime

from azure.core.credentials import TokenCredential

from collector.accounts import Account
from collector.azure.client import ARM_SCOPE, ARM_URL, GRAPH_SCOPE, GRAPH_URL, ApiClient
from collector.azure.credentials import CredentialError, make_credential, token_tenant
from collector.azure.scope import AzureScope
from collector.causes import describe_error
from collector.clock import utcnow
from collector.collect import Target
from collector.http import RetryObserver
from collector.settings import AzureSettings, AzureTenant, Settings
from collector.snapshots import SnapshotCache

SUBSCRIPTIONS_API = "2022-12-01"
#: What resolving subscriptions needs, beside the checks' own permissions.
PERMISSIONS = ("azure-role:Reader",)
_UNUSABLE = frozenset({"Disabled", "Deleted"})


def azure_accounts(settings: Settings, *, observe: RetryObserver | None = None) -> list[Account]:
    """Provider hook for ``azure``: one account per subscription of every tenant."""
    return resolve_accounts(settings.azure, "azure", observe=observe)


def entra_accounts(settings: Settings, *, observe: RetryObserver | None = None) -> list[Account]:
    """Provider hook for ``entra``: one account per tenant."""
    return resolve_accounts(settings.azure, "entra", observe=observe)


def intune_accounts(settings: Settings, *, observe: RetryObserver | None = None) -> list[Account]:
    """Provider hook for ``intune``: one account per tenant."""
    return resolve_accounts(settings.azure, "intune", observe=observe)


def resolve_accounts(
    settings: AzureSettings,
    provider: str,
    *,
    credential_factory: Callable[[AzureTenant], TokenCredential] = make_credential,
    clock: Callable[[], datetime] = utcnow,
    sleep: Callable[[float], None] = time.sleep,
    observe: RetryObserver | None = None,
) -> list[Account]:
    """Accounts of ``provider`` (azure, entra, intune) for every configured tenant."""
    arm = provider == "azure"
    accounts: list[Account] = []
    for tenant in settings.tenants:
        label = tenant.name or tenant.tenant_id
        try:
            credential = credential_factory(tenant)
            scope = ARM_SCOPE if arm else GRAPH_SCOPE
            _check_tenant(credential.get_token(scope).token, tenant.tenant_id)
            api = ApiClient(
                credential,
                base_url=ARM_URL if arm else GRAPH_URL,
                scope=scope,
                timeout=settings.timeout,
                max_attempts=settings.max_attempts,
                sleep=sleep,
                on_retryable=observe,
                rate_key=(provider, tenant.tenant_id, "arm" if arm else "graph"),
            )
            subscriptions = _subscriptions(api, tenant) if arm else []
        except Exception as exc:  # the run records this as ERROR for the tenant's checks
            cause = f"cannot access tenant {label}: {describe_error(exc)}"
            accounts.append(Account(provider, tenant.tenant_id, error=cause))
            continue

        def make_scope(target: Target, cache: SnapshotCache, api: ApiClient = api) -> AzureScope:
            return AzureScope(target, api, cache, settings=settings, clock=clock)

        who = f"app {tenant.client_id or '(default credential)'} in tenant {tenant.tenant_id}"
        if not arm:
            accounts.append(
                Account(provider, tenant.tenant_id, make_scope=make_scope, identity=who)
            )
        for subscription, error in subscriptions:
            accounts.append(
                Account(
                    "azure",
                    subscription,
                    make_scope=None if error else make_scope,
                    error=error,
                    identity=who,
                )
            )
    return accounts


def _check_tenant(token: str, tenant_id: str) -> None:
    signed_in = token_tenant(token)
    if signed_in is not None and signed_in.lower() != tenant_id.lower():
        raise CredentialError(f"the credential signed in to tenant {signed_in}, not {tenant_id}")


def _subscriptions(api: ApiClient, tenant: AzureTenant) -> list[tuple[str, str | None]]:
    """(subscription id, error or None) for the tenant's listed or discovered subscriptions."""
    found: list[tuple[str, str, str | None]] = []  # id, name, error
    if tenant.subscriptions == "all":
        for item in api.list("/subscriptions", api_version=SUBSCRIPTIONS_API):
            if item.get("tenantId", tenant.tenant_id).lower() != tenant.tenant_id.lower():
                continue
            if item.get("state") not in _UNUSABLE:
                found.append((item["subscriptionId"], item.get("displayName", ""), None))
    else:
        for subscription in dict.fromkeys(tenant.subscriptions):
            found.append(_listed(api, subscription))
    chosen = [(sid, error) for sid, name, error in found if _wanted(tenant, sid, name)]
    if not chosen:
        raise CredentialError(
            "no enabled subscription visible to the credential after include/exclude "
            "(grant it Reader on the subscriptions to audit)"
        )
    return chosen


def _listed(api: ApiClient, subscription: str) -> tuple[str, str, str | None]:
    try:
        item = api.get(f"/subscriptions/{subscription}", api_version=SUBSCRIPTIONS_API)
    except Exception as exc:
        return subscription, "", f"cannot access subscription {subscription}: {describe_error(exc)}"
    if item.get("state") in _UNUSABLE:
        return subscription, "", f"subscription {subscription} is {item['state']}"
    return subscription, str(item.get("displayName", "")), None


def _wanted(tenant: AzureTenant, subscription: str, name: str) -> bool:
    def hit(patterns: list[str]) -> bool:
        return any(
            fnmatch.fnmatch(value.lower(), p.lower())
            for p in patterns
            for value in (subscription, name)
        )

    return (not tenant.include or hit(tenant.include)) and not hit(tenant.exclude)
