"""Resolve configured AWS accounts into :class:`Account` objects (identity and regions).

Three ways to name an account: the default credential chain or a ``profile``; a ``role_arn``
assumed from that base session (refreshable credentials, renewed by botocore before they
expire); and ``organization:``, every ACTIVE account of an AWS Organization (see
:mod:`collector.aws.organizations`). An account that cannot be reached becomes an
:class:`Account` with ``error`` set, so only its checks are recorded as ERROR.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)
from botocore.exceptions import NoCredentialsError

from collector.accounts import Account
from collector.aws.scope import AccountScopes, client_config
from collector.causes import describe_error
from collector.settings import AwsAccount, AwsSettings, Settings

DEFAULT_REGION = "us-east-1"
DEFAULT_SESSION_NAME = "annexa"
#: Accounts resolved at once (each resolution is a few STS/EC2 round trips).
RESOLVE_WORKERS = 8


def accounts_from_settings(settings: Settings) -> list[Account]:
    """The provider hook (see ``collector.providers``): accounts from the ``aws:`` section."""
    return resolve_accounts(settings.aws)


def resolve_accounts(
    settings: AwsSettings, session: boto3.Session | None = None, *, config: Config | None = None
) -> list[Account]:
    """One :class:`Account` per configured account (and per organization member), in config
    order, each account id once; failures become accounts with ``error``.

    ``session`` replaces the default credential chain as the base session (the demo and tests
    pass one); ``config`` replaces the botocore client config (retries, timeouts).
    """
    if not settings.enabled:
        return []
    config = config or client_config(settings.max_attempts)
    lock = threading.Lock()  # guards creating clients on the given session, from any thread
    resolvers: list[Callable[[], Account]] = [
        lambda entry=entry: _configured(entry, settings, session, config, lock)  # type: ignore[misc]
        for entry in _configured_entries(settings)
    ]
    if settings.organization is not None:
        from collector.aws.organizations import member_resolvers

        resolvers += member_resolvers(settings.organization, settings, session, config, lock)
    with ThreadPoolExecutor(RESOLVE_WORKERS, thread_name_prefix="annexa-aws-accounts") as pool:
        resolved = list(pool.map(lambda resolve: resolve(), resolvers))
    unique: dict[str, Account] = {}
    for account in resolved:
        unique.setdefault(account.account, account)
    return list(unique.values())


def _configured_entries(settings: AwsSettings) -> list[AwsAccount]:
    """``accounts``; with an organization, only those listed explicitly (the default entry,
    the base session, is the management account the organization already includes)."""
    if settings.organization is not None and "accounts" not in settings.model_fields_set:
        return []
    return settings.accounts


def _configured(
    entry: AwsAccount,
    settings: AwsSettings,
    given: boto3.Session | None,
    config: Config,
    given_lock: threading.Lock,
) -> Account:
    label = entry.name or entry.profile or "default"
    lock = given_lock if given else threading.Lock()
    try:
        base = given or boto3.Session(profile_name=entry.profile)
    except Exception as exc:
        cause = f"cannot access AWS account {label}: {describe_error(exc)}"
        return Account("aws", label, error=cause)
    if entry.role_arn:
        return assumed_account(
            base,
            entry.role_arn,
            settings,
            config,
            external_id=entry.external_id,
            session_name=entry.session_name,
            lock=lock,
        )
    return session_account(base, settings, config, label=label, lock=lock)


def session_account(
    session: boto3.Session,
    settings: AwsSettings,
    config: Config,
    *,
    label: str,
    account_id: str | None = None,
    lock: threading.Lock | None = None,
    identity: str | None = None,
) -> Account:
    """The account ``session``'s credentials belong to (``GetCallerIdentity`` unless known).

    ``lock`` guards creating clients on ``session`` when other code shares it."""
    home = session.region_name or DEFAULT_REGION
    scopes = AccountScopes(session, home_region=home, settings=settings, config=config, lock=lock)
    try:
        if account_id is None:
            caller = scopes.clients.get("sts", home).get_caller_identity()
            account_id, identity = caller["Account"], caller.get("Arn")
        regions = _regions(scopes, settings.regions)
    except Exception as exc:  # the run records this as ERROR for every check of the account
        return Account(
            "aws",
            account_id or label,
            error=f"cannot access AWS account {account_id or label}: {describe_error(exc)}",
        )
    return Account("aws", account_id, regions=regions, make_scope=scopes, identity=identity)


def assumed_account(
    base: boto3.Session,
    role_arn: str,
    settings: AwsSettings,
    config: Config,
    *,
    external_id: str | None = None,
    session_name: str | None = None,
    lock: threading.Lock | None = None,
) -> Account:
    """The account of ``role_arn``, audited through that role assumed from ``base``."""
    account_id = role_arn.split(":")[4]
    try:
        session = assume_role_session(
            base,
            role_arn,
            external_id=external_id,
            session_name=session_name,
            config=config,
            lock=lock,
        )
    except Exception as exc:
        return Account("aws", account_id, error=f"cannot assume {role_arn}: {describe_error(exc)}")
    return session_account(
        session,
        settings,
        config,
        label=account_id,
        account_id=account_id,
        identity=f"{role_arn} (session {session_name or 'annexa'})",
    )


class _Assumed(CredentialProvider):  # type: ignore[misc]
    METHOD = "assume-role"

    def __init__(self, credentials: DeferredRefreshableCredentials) -> None:
        self._credentials = credentials

    def load(self) -> DeferredRefreshableCredentials:
        return self._credentials


def assume_role_session(
    base: boto3.Session,
    role_arn: str,
    *,
    external_id: str | None = None,
    session_name: str | None = None,
    config: Config | None = None,
    lock: threading.Lock | None = None,
) -> boto3.Session:
    """A session whose credentials come from ``sts:AssumeRole`` on ``role_arn`` with ``base``'s.

    The role is assumed once here (so a denial surfaces now, for this account only); botocore
    assumes it again shortly before the credentials expire. ``lock`` serialises creating STS
    clients on ``base`` when several roles are assumed from it at once.
    """
    source = base.get_credentials()
    if source is None:
        raise NoCredentialsError()
    region = base.region_name or DEFAULT_REGION
    guard = lock or threading.Lock()

    def sts_client(service: str, **kwargs: Any) -> Any:
        with guard:
            return base.client(service, region_name=region, config=config, **kwargs)

    extra = {"RoleSessionName": session_name or DEFAULT_SESSION_NAME}
    if external_id:
        extra["ExternalId"] = external_id
    fetcher = AssumeRoleCredentialFetcher(sts_client, source, role_arn, extra_args=extra)
    fetcher.fetch_credentials()  # cached by the fetcher until close to expiry
    credentials = DeferredRefreshableCredentials(fetcher.fetch_credentials, "assume-role")
    profile = base.profile_name if base.profile_name in base.available_profiles else None
    core = botocore.session.Session(profile=profile)
    core.set_config_variable("region", region)
    core.register_component("credential_provider", CredentialResolver([_Assumed(credentials)]))
    return boto3.Session(botocore_session=core)


def _regions(scopes: AccountScopes, wanted: list[str] | str | None) -> tuple[str, ...]:
    """Every enabled region by default (as the leading scanners do: a region nobody looks at
    is where an attacker starts), the session's region only with ``session``, else the list."""
    home = scopes.home_region
    if wanted == "session":
        return (home,)
    if wanted in (None, "all"):
        answer = scopes.clients.get("ec2", home).describe_regions(AllRegions=False)
        return tuple(sorted(r["RegionName"] for r in answer["Regions"]))
    return tuple(dict.fromkeys(wanted))
