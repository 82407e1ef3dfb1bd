"""Resolve the ``identity:`` section into its one account (the source of truth), with the
policy its checks judge by; the alias file is read and validated here, before any run."""

from __future__ import annotations

from dataclasses import dataclass

from checks.api import Snapshot
from checks.identity.models import IdentityPolicy
from collector.accounts import Account
from collector.collect import Target, collects
from collector.errors import UserError
from collector.identity.aliases import read_aliases
from collector.settings import IdentitySettings, Settings
from collector.snapshots import SnapshotCache


@dataclass(frozen=True)
class IdentityScope:
    target: Target
    policy: IdentityPolicy

    def get(self, kind: type[Snapshot]) -> Snapshot:
        raise LookupError(f"the identity provider has no {kind.__name__}")


def identity_accounts(settings: Settings) -> list[Account]:
    """Provider hook for ``identity``: one account named by the source, when configured."""
    return resolve_accounts(settings.identity)


def resolve_accounts(settings: IdentitySettings) -> list[Account]:
    if settings.source is None:
        return []
    for ref in settings.ignore:
        if ":" not in ref:
            raise UserError(f"identity.ignore: {ref!r} must be <kind>:<name>, e.g. iam:ci-deploy")
    policy = IdentityPolicy(
        source=settings.source,
        aliases=read_aliases(settings.aliases) if settings.aliases else {},
        match_local_part=settings.match_local_part,
        privileged_permission_sets=tuple(settings.privileged_permission_sets),
        privileged_policies=tuple(settings.privileged_policies),
        ignore=tuple(r.lower() for r in settings.ignore),
    )

    def make_scope(target: Target, cache: SnapshotCache) -> IdentityScope:
        return IdentityScope(target, policy)

    return [Account("identity", settings.source, make_scope=make_scope)]


@collects(IdentityPolicy, permissions=[])
def identity_policy(scope: IdentityScope) -> IdentityPolicy:
    """The configured policy, stored with every identity check's evidence."""
    return scope.policy
