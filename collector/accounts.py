"""Accounts to audit: one credential context per provider account, resolved before a run."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from collector.collect import Scope, Target
from collector.snapshots import SnapshotCache

ScopeFactory = Callable[[Target, SnapshotCache], Scope]


@dataclass(frozen=True)
class Account:
    """A resolved account (or one that could not be resolved, with ``error`` set).

    ``account`` is the provider's id (AWS account id, subscription, project, tenant) or, when
    resolution failed, the configured label, so that the failure is still stored as evidence.
    """

    provider: str
    account: str
    regions: tuple[str, ...] = ()
    make_scope: ScopeFactory | None = field(default=None, compare=False)
    error: str | None = None
    # who collects: AWS caller ARN, Azure/Entra app and tenant, GCP service account, Okta
    # client, GitHub App; sealed with the run (``collected_by``)
    identity: str | None = field(default=None, compare=False)

    def targets(self, scope: str) -> list[Target]:
        """Targets for a check of the given scope (``account`` or ``region``)."""
        if scope == "region" and self.error is None:
            return [Target(self.provider, self.account, r) for r in self.regions]
        return [Target(self.provider, self.account, None)]


def collected_by(accounts: Iterable[Account]) -> dict[str, str | None]:
    """What a run records of the accounts it covers (``EvidenceStore.set_run_accounts``):
    ``provider:account`` -> the identity reading it, None for one that could not be reached."""
    return {f"{a.provider}:{a.account}": a.identity for a in accounts}
