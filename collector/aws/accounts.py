"""Resolve configured AWS accounts into :class:`Account` objects (identity and regions)."""

from __future__ import annotations

import boto3

from collector.accounts import Account
from collector.aws.scope import CLIENT_CONFIG, AwsScope
from collector.causes import describe_error
from collector.collect import Target
from collector.settings import AwsAccount, AwsSettings, Settings
from collector.snapshots import SnapshotCache

DEFAULT_REGION = "us-east-1"
#: What resolving an account calls, beside the checks' own permissions.
PERMISSIONS = ("sts:GetCallerIdentity", "ec2:DescribeRegions")


def accounts_from_settings(settings: Settings) -> list[Account]:
    """The provider hook (see ``collector.providers``): accounts from the ``aws:`` section."""
    return resolve_accounts(settings.aws)


def resolve_accounts(settings: AwsSettings, session: boto3.Session | None = None) -> list[Account]:
    """One :class:`Account` per configured account; failures become accounts with ``error``."""
    if not settings.enabled:
        return []
    return [_resolve(entry, settings, session) for entry in settings.accounts]


def _resolve(entry: AwsAccount, settings: AwsSettings, given: boto3.Session | None) -> Account:
    label = entry.name or entry.profile or "default"
    try:
        session = given or boto3.Session(profile_name=entry.profile)
        home = session.region_name or DEFAULT_REGION
        sts = session.client("sts", region_name=home, config=CLIENT_CONFIG)
        account_id = sts.get_caller_identity()["Account"]
        regions = _regions(session, home, settings.regions)
    except Exception as exc:  # the run records this as ERROR for every AWS check
        return Account(
            "aws", label, error=f"cannot access AWS account {label}: {describe_error(exc)}"
        )

    def make_scope(target: Target, cache: SnapshotCache) -> AwsScope:
        return AwsScope(target, session, cache, home_region=home, settings=settings)

    return Account("aws", account_id, regions=regions, make_scope=make_scope)


def _regions(session: boto3.Session, home: str, wanted: list[str] | str | None) -> tuple[str, ...]:
    if wanted is None:
        return (home,)
    if wanted == "all":
        ec2 = session.client("ec2", region_name=home, config=CLIENT_CONFIG)
        answer = ec2.describe_regions(AllRegions=False)
        return tuple(sorted(r["RegionName"] for r in answer["Regions"]))
    return tuple(dict.fromkeys(wanted))
