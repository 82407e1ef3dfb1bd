"""Per-run memo of snapshots: each collector runs at most once per (snapshot type, target)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import replace
from typing import TypeVar

from checks.api import Snapshot
from collector.collect import CollectorSpec, Scope, Target

S = TypeVar("S", bound=Snapshot)


class SnapshotCache:
    """Thread-safe memo of collector results for one run; errors are memoised too.

    Concurrent checks that need the same snapshot wait for the one fetch in flight, so one
    ListBuckets serves every S3 check, and one AccessDenied fails them all with the same cause.
    """

    def __init__(
        self,
        collectors: Mapping[type[Snapshot], CollectorSpec],
        make_scope: Callable[[Target, SnapshotCache], Scope],
        parts: Mapping[type[Snapshot], frozenset[str]] | None = None,
    ) -> None:
        self._collectors = collectors
        self._make_scope = make_scope
        self._parts = parts or {}
        self._lock = threading.Lock()
        self._futures: dict[tuple[type[Snapshot], Target], Future[Snapshot]] = {}

    def key_target(self, kind: type[Snapshot], target: Target) -> Target:
        """The target a snapshot is memoised under: account-wide kinds drop the region."""
        spec = self._spec(kind)
        if spec.scope == "account":
            return replace(target, region=None)
        if target.region is None:
            raise LookupError(f"{kind.__name__} is collected per region, but {target} has none")
        return target

    def parts(self, kind: type[Snapshot]) -> frozenset[str]:
        """The optional parts of ``kind`` to read this run (``parts`` given at creation, else
        all that its collector declares)."""
        if kind in self._parts:
            return self._parts[kind]
        return self._spec(kind).optional_parts

    def get(self, kind: type[S], target: Target) -> S:
        """Return the snapshot of ``kind`` for ``target``, fetching it on first use."""
        spec = self._spec(kind)
        key = (kind, self.key_target(kind, target))
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if owner:
                future = self._futures[key] = Future()
        assert future is not None
        if owner:
            try:
                snapshot = spec.func(self._make_scope(key[1], self))
                if not isinstance(snapshot, kind):
                    raise TypeError(f"collector {spec.name} returned {type(snapshot).__name__}")
                future.set_result(snapshot)
            except BaseException as exc:  # memoised: every check needing it sees this cause
                future.set_exception(exc)
        return future.result()  # type: ignore[return-value]

    def _spec(self, kind: type[Snapshot]) -> CollectorSpec:
        try:
            return self._collectors[kind]
        except KeyError:
            raise LookupError(f"no collector provides {kind.__name__}") from None
