"""The collector side of the plugin API: ``@collects`` and what a collector receives.

A collector is a function ``(scope) -> Snapshot``. It is called at most once per run and
target; every check that names its snapshot type shares the result (or the error).
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
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
    #: check id -> the optional parts of the snapshot it needs (see :func:`collects`)
    parts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: reads every listed resource one by one: the runner starts it first
    fan_out: bool = False

    @property
    def name(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"

    @property
    def optional_parts(self) -> frozenset[str]:
        """Every optional part the collector can leave out."""
        return frozenset(part for needed in self.parts.values() for part in needed)

    def parts_for(self, check_ids: Iterable[str]) -> frozenset[str]:
        """The optional parts the given checks (those that read this snapshot) need: a check
        the collector does not list needs them all."""
        needed: set[str] = set()
        for check_id in check_ids:
            if check_id not in self.parts:
                return self.optional_parts
            needed.update(self.parts[check_id])
        return frozenset(needed)


def collects(
    snapshot: type[S],
    *,
    permissions: list[str] | tuple[str, ...],
    scope: ScopeKind = "account",
    parts: Mapping[str, Iterable[str]] | None = None,
    fan_out: bool = False,
) -> Callable[[Callable[[Any], S]], Callable[[Any], S]]:
    """Mark a function as the collector of ``snapshot``. Only attaches data.

    ``permissions`` lists every API permission the collector's calls need (for AWS, IAM
    actions such as ``s3:ListAllMyBuckets``); ``scope`` says whether the snapshot is read once
    per account (``"account"``) or once per region (``"region"``). ``parts`` names, per check
    id, the optional parts of the snapshot that check needs (``{"aws.s3.default_encryption":
    ["encryption"]}``): a run reads only the parts its checks need (the scope says which), and
    any part when a check reading the snapshot is not listed. ``fan_out`` marks a collector
    that makes calls per listed resource (per bucket, per user): the runner starts those first.
    """
    if scope not in typing.get_args(ScopeKind):
        raise ValueError(f"scope must be 'account' or 'region', got {scope!r}")
    declared = {check: tuple(needed) for check, needed in (parts or {}).items()}
    spec_args = (snapshot, scope, tuple(permissions), declared, fan_out)

    def attach(func: Callable[[Any], S]) -> Callable[[Any], S]:
        setattr(func, _MARK, spec_args)
        return func

    return attach


def collector_of(func: Callable[..., Any]) -> CollectorSpec | None:
    """The :class:`CollectorSpec` of a marked function, or ``None``."""
    args = getattr(func, _MARK, None)
    if args is None:
        return None
    snapshot, scope, permissions, parts, fan_out = args
    return CollectorSpec(snapshot, scope, permissions, func, parts, fan_out)
