"""AWS Organizations discovery: every ACTIVE member account, audited through an assumed role.

The management account (the base session's) lists the accounts with
``organizations:ListAccounts`` and assumes ``arn:<partition>:iam::<id>:role/<role_name>`` in
each; the management account itself is audited with its own credentials.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import boto3
from botocore.config import Config

from collector.accounts import Account
from collector.aws.accounts import DEFAULT_REGION, assumed_account, session_account
from collector.aws.scope import Clients
from collector.causes import describe_error
from collector.settings import AwsOrganization, AwsSettings

ORGANIZATION_LABEL = "organization"


def active_accounts(organizations: Any) -> list[str]:
    """Ids of the organization's ACTIVE accounts, in listing order (all pages)."""
    ids = []
    for page in organizations.get_paginator("list_accounts").paginate():
        for account in page.get("Accounts", []):
            # ``State`` supersedes the deprecated ``Status``; both say ACTIVE for a live account
            if (account.get("State") or account.get("Status")) == "ACTIVE":
                ids.append(account["Id"])
    return ids


def member_resolvers(
    org: AwsOrganization,
    settings: AwsSettings,
    given: boto3.Session | None,
    config: Config,
    given_lock: threading.Lock,
) -> list[Callable[[], Account]]:
    """One resolver per selected account (called concurrently by ``resolve_accounts``).

    Listing the accounts happens here; a failure to list is one ERROR account labelled
    ``organization``. An ``include``d id that is not an ACTIVE member is an ERROR account too.
    """
    lock = given_lock if given else threading.Lock()
    try:
        base = given or boto3.Session(profile_name=org.profile)
        home = base.region_name or DEFAULT_REGION
        clients = Clients(base, config, lock=lock)
        identity = clients.get("sts", home).get_caller_identity()
        active = active_accounts(clients.get("organizations", home))
    except Exception as exc:
        cause = f"cannot list the organization's accounts: {describe_error(exc)}"
        return [lambda: Account("aws", ORGANIZATION_LABEL, error=cause)]
    management = identity["Account"]
    partition = identity["Arn"].split(":")[1]
    wanted = list(dict.fromkeys(org.include)) if org.include is not None else active
    resolvers: list[Callable[[], Account]] = []
    for account_id in wanted:
        if account_id in org.exclude:
            continue
        if account_id not in active:
            cause = f"account {account_id} is not an ACTIVE member of the organization"
            resolvers.append(partial(Account, "aws", account_id, error=cause))
        elif account_id == management:
            resolvers.append(
                partial(
                    session_account,
                    base,
                    settings,
                    config,
                    label=management,
                    account_id=management,
                    lock=lock,
                )
            )
        else:
            resolvers.append(
                partial(
                    assumed_account,
                    base,
                    f"arn:{partition}:iam::{account_id}:role/{org.role_name}",
                    settings,
                    config,
                    external_id=org.external_id,
                    lock=lock,
                )
            )
    return resolvers
