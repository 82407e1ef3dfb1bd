"""Per-provider hooks: how a provider's accounts are resolved and its permissions rendered.

Each provider module is imported only when a selected check needs it, so a run loads only
what it uses. A provider (``aws``, ``azure``, ``entra``, ...) registers here with one line.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from collector.errors import UserError

if TYPE_CHECKING:  # the front door reads RESOLVERS for its help texts: keep this light
    from collector.accounts import Account
    from collector.http import RetryObserver
    from collector.settings import Settings

#: provider -> "module:function" taking Settings and returning list[Account]
RESOLVERS: dict[str, str] = {
    "aws": "collector.aws.accounts:accounts_from_settings",
    "azure": "collector.azure.accounts:azure_accounts",
    "entra": "collector.azure.accounts:entra_accounts",
    "intune": "collector.azure.accounts:intune_accounts",
    "gcp": "collector.gcp.accounts:gcp_accounts",
    "osquery": "collector.osquery.host:osquery_accounts",
    "workspace": "collector.workspace.accounts:workspace_accounts",
    "okta": "collector.okta.accounts:okta_accounts",
    "fleet": "collector.fleet.accounts:fleet_accounts",
    "github": "collector.github.accounts:github_accounts",
    "identity": "collector.identity.accounts:identity_accounts",
}
#: provider -> "module:function" taking the set of declared permissions (and the Settings, for
#: what account resolution needs) and returning a JSON-able document of what to grant (an IAM
#: policy, app-registration permissions, ...)
PERMISSION_RENDERERS: dict[str, str] = {
    "aws": "collector.aws.permissions:render",
    "azure": "collector.azure.permissions:app_registration",
    "entra": "collector.azure.permissions:app_registration",
    "intune": "collector.azure.permissions:app_registration",
    "gcp": "collector.gcp.permissions:render",
    "osquery": "collector.osquery.permissions:render",
    "workspace": "collector.workspace.permissions:render",
    "okta": "collector.okta.permissions:render",
    "fleet": "collector.fleet.permissions:render",
    "github": "collector.github.permissions:render",
    "identity": "collector.identity.permissions:render",
}


def configured_providers(settings: Settings) -> set[str]:
    """The providers whose config section names at least one target (read from the settings
    alone, no network): what ``status`` and the export judge as in scope. AWS counts with its
    default entry (the default credential chain) unless ``aws: {enabled: false}``."""
    return {provider for provider, yes in provider_configured(settings).items() if yes}


def provider_configured(settings: Settings) -> dict[str, bool]:
    """Per provider of ``RESOLVERS``, whether its settings name at least one target."""
    s = settings
    return {
        "aws": s.aws.enabled and bool(s.aws.accounts or s.aws.organization),
        "azure": bool(s.azure.tenants),
        "entra": bool(s.azure.tenants),
        "intune": bool(s.azure.tenants),
        "gcp": s.gcp.enabled and bool(s.gcp.scopes),
        "osquery": s.osquery.enabled,
        "workspace": s.workspace.enabled and bool(s.workspace.admin_email and s.workspace.key_file),
        "okta": s.okta.enabled and bool(s.okta.org_url),
        "fleet": s.fleet.enabled and bool(s.fleet.base_url),
        "github": s.github.enabled and bool(s.github.organizations),
        "identity": s.identity.source is not None,
    }


def configured_targets(
    settings: Settings,
) -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    """Per provider, the accounts and the regions its settings name (from the settings alone,
    no network): what ``status``, the export and the console judge as the targets in scope. A
    provider with an entry whose accounts only resolution tells (see :func:`discovered_targets`;
    osquery: the host running it) is left out of the accounts, and so are providers without a
    region list: any counts."""
    named = _named_accounts(settings)
    accounts = {p: ids for p, (ids, complete) in named.items() if complete}
    aws_regions = settings.aws.regions
    regions = {"aws": frozenset(aws_regions)} if isinstance(aws_regions, list) else {}
    return accounts, regions


def discovered_targets(settings: Settings) -> dict[str, frozenset[str]]:
    """Per provider with an entry whose accounts only resolution tells (AWS static keys, an
    instance role or the default chain, an organization's discovered members; an Azure tenant
    with ``subscriptions: all``), the accounts its other entries name. Status adds the
    accounts the provider's newest run covered (``EvidenceStore.run_accounts``); before any
    such run, any account of the provider counts."""
    return {p: ids for p, (ids, complete) in _named_accounts(settings).items() if not complete}


def _named_accounts(settings: Settings) -> dict[str, tuple[frozenset[str], bool]]:
    """Per provider, the accounts the config names and whether that is all of them."""
    s = settings
    every: dict[str, frozenset[str] | None] = {
        "entra": frozenset(t.tenant_id for t in s.azure.tenants),
        "intune": frozenset(t.tenant_id for t in s.azure.tenants),
        "gcp": frozenset(s.gcp.scopes),
        "workspace": frozenset({s.workspace.domain or s.workspace.customer}),
        "okta": frozenset({urlsplit(s.okta.org_url).netloc}) if s.okta.org_url else None,
        "fleet": frozenset({urlsplit(s.fleet.base_url).netloc}) if s.fleet.base_url else None,
        "github": frozenset(s.github.organizations),
        "identity": frozenset({s.identity.source}) if s.identity.source else None,
    }
    named = {p: (ids, True) for p, ids in every.items() if ids is not None}
    named["aws"] = _aws_accounts(s)
    # a tenant that cannot be reached is recorded under its tenant id
    listed = [(t.tenant_id, t.subscriptions) for t in s.azure.tenants]
    azure = {a for tenant, subs in listed for a in (tenant, *(subs if subs != "all" else ()))}
    named["azure"] = frozenset(azure), all(subs != "all" for _, subs in listed)
    return named


def _aws_accounts(settings: Settings) -> tuple[frozenset[str], bool]:
    """The AWS account ids the config names: by ``role_arn``, by a profile of the AWS config
    file that names its account (``sso_account_id`` or ``role_arn``), or an organization's
    ``include`` list; and False when an entry's account only resolution tells (static keys,
    instance roles) or the organization's members are discovered."""
    aws = settings.aws
    entries = aws.accounts
    if aws.organization is not None and "accounts" not in aws.model_fields_set:
        entries = []  # the organization includes the management account
    ids: set[str] = set()
    complete = True
    for entry in entries:
        if entry.role_arn:
            account = _arn_account(entry.role_arn)
        else:
            account = _profile_account(entry.profile)
        if account is None:
            complete = False
        else:
            ids.add(account)
    if aws.organization is not None:
        # "organization": the label of a failure to list the members (aws.organizations)
        ids.add("organization")
        if aws.organization.include is None:
            complete = False
        else:
            ids |= set(aws.organization.include) - set(aws.organization.exclude)
    return frozenset(ids), complete


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() and len(parts[4]) == 12 else None


def _profile_account(profile: str | None) -> str | None:
    """The account a profile of the AWS config file (``AWS_CONFIG_FILE``, default
    ``~/.aws/config``) names, read without a network call; ``profile`` None is the default
    chain (``AWS_PROFILE``, else ``default``), unless keys in the environment come first."""
    if profile is None:
        if os.environ.get("AWS_ACCESS_KEY_ID"):
            return None  # the chain's first source: keys say nothing of their account
        profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE")
        profile = profile or "default"
    import configparser  # the AWS config file is INI (botocore is not imported by `status`)

    path = os.path.expanduser(os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config")
    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeDecodeError):
        return None  # unreadable: resolution will say; here, any account counts
    names = (f"profile {profile}", profile) if profile == "default" else (f"profile {profile}",)
    section = next((dict(parser[n]) for n in names if parser.has_section(n)), {})
    if isinstance(section.get("sso_account_id"), str) and section["sso_account_id"].isdigit():
        return section["sso_account_id"]
    role = section.get("role_arn")
    return _arn_account(role) if isinstance(role, str) else None


def named(prefix: str, permissions: Iterable[str]) -> list[str]:
    """The sorted names of ``<prefix><name>`` permissions; any other notation is a ValueError."""
    declared = set(permissions)
    unknown = sorted(p for p in declared if not p.startswith(prefix))
    if unknown:
        raise ValueError(f"unknown permission notation: {', '.join(unknown)}")
    return sorted(p.removeprefix(prefix) for p in declared)


def _load(spec: str) -> Callable[..., Any]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def resolve_accounts(
    providers: Iterable[str],
    settings: Settings,
    *,
    observe: Callable[[str], RetryObserver] | None = None,
) -> list[Account]:
    """Accounts (subscriptions, projects, tenants) to audit for the given providers.

    ``observe(provider)``, when given, is handed as ``observe=`` to the hooks that take it
    (those building an HTTP client): it sees their 429/503 answers (the daemon's metric).
    """
    accounts: list[Account] = []
    for provider in sorted(set(providers)):
        if provider not in RESOLVERS:
            raise UserError(f"provider {provider!r} has checks but no way to resolve accounts")
        hook = _load(RESOLVERS[provider])
        if observe is not None and "observe" in inspect.signature(hook).parameters:
            accounts += hook(settings, observe=observe(provider))
        else:
            accounts += hook(settings)
    return accounts


def render_permissions(
    provider: str, permissions: Iterable[str], settings: Settings | None = None
) -> Any:
    """What to grant so that the given provider's selected checks can run, read-only."""
    if provider not in PERMISSION_RENDERERS:
        known = ", ".join(sorted(PERMISSION_RENDERERS))
        raise UserError(f"unknown provider {provider!r} for permissions (choose from {known})")
    return _load(PERMISSION_RENDERERS[provider])(set(permissions), settings)
