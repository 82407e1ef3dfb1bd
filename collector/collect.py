"""The collector side of the plugin API: ``@collects`` and what a collector receives.

A collector is a function ``(scope) -> Snapshot``. It is called at most once per run and
target; every check that names its snapshot type shares the result (or the error).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from checks.api import Snapshot

__all__ = ["CollectorSpec", "Scope", "Target", "collector_of", "collects"]

S = TypeVar("S", bound=Snapshot)
ScopeKind = Literal["account", "region"]
_MARK = "__annexa_collector__"


@dataclass(frozen=True, order=True)
class Target:
    """Where evidence comes from: provider, account (subscription, project, tenant), region.

    ``region`` is ``None`` for account-wide (global) evidence.
    """

    provider: str
    account: str
    region: str | None = None

    @property
    def key(self) -> str:
        """Stable text form, ``aws:123456789012:eu-west-1`` or ``aws:123456789012``."""
        parts = [self.provider, self.account] + ([self.region] if self.region else [])
        return ":".join(parts)

    def __str__(self) -> str:
        return self.key


class Scope(Protocol):
    """What a collector is handed: the target it reads and access to other snapshots."""

    target: Target

    def get(self, kind: type[S]) -> S:
        """The (memoised) snapshot of ``kind`` for this scope's target."""
        ...


@dataclass(frozen=True)
class CollectorSpec:
    """A registered collector: which snapshot it produces, where, and with what permissions."""

    snapshot: type[Snapshot]
    scope: ScopeKind
    permissions: tuple[str, ...]
    func: Callable[[Any], Snapshot]

    @property
    def name(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"


def collects(
    snapshot: type[S], *, permissions: list[str] | tuple[str, ...], scope: ScopeKind = "account"
) -> Callable[[Callable[[Any], S]], Callable[[Any], S]]:
    """Mark a function as the collector of ``snapshot``. Only attaches data.

    ``permissions`` lists every API permission the collector's calls need (for AWS, IAM
    actions such as ``s3:ListAllMyBuckets``); ``scope`` says whether the snapshot is read once
    per account (``"account"``) or once per region (``"region"``).
    """
    if scope not in typing.get_args(ScopeKind):
        raise ValueError(f"scope must be 'account' or 'region', got {scope!r}")
    spec_args = (snapshot, scope, tuple(permissions))

    def attach(func: Callable[[Any], S]) -> Callable[[Any], S]:
        setattr(func, _MARK, spec_args)
        return func

    return attach


def collector_of(func: Callable[..., Any]) -> CollectorSpec | None:
    """The :class:`CollectorSpec` of a marked function, or ``None``."""
    args = getattr(func, _MARK, None)
    if args is None:
        return None
    snapshot, scope, permissions = args
    return CollectorSpec(snapshot=snapshot, scope=scope, permissions=permissions, func=func)
