"""Per-process reuse of the console's two big reads, valid only while the store says nothing
changed underneath: the latest evidence per (check, target) and a period's compressed timeline
(with continuity's memo of each (check, target)'s state changes over it).

Evidence is append-only: new records get higher ids (appends hold the chain lock, so ids commit
in order), prune removes the lowest. So a read is reused while the store's id range is
unchanged; a period's timeline is extended with what arrived since (and read again whole if a
new record is dated before what was already read, as buffered evidence can be). Exceptions,
manual evidence and the SoA are not cached: every page reads them. The result is the same
summaries the store would give (``timeline`` then ``continuity.compress``), so every status and
measure is unchanged.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from collector.continuity import compress
from storage import EvidenceStore, EvidenceSummary

__all__ = ["ReadCache"]

_FAR = datetime(9999, 12, 31, tzinfo=UTC)
_MEMOS = 4  # continuity memos kept per cached read (``ReadCache.memo``)


@dataclass
class _Timeline:
    ids: tuple[int | None, int | None]  # the store's id range when read
    read_to: datetime
    history: list[EvidenceSummary]
    extendable: bool  # no record of those ids lies at or after ``read_to``
    # continuity's memos over ``history``, per period (``memo``), the newest last
    memos: OrderedDict[tuple[datetime, datetime], dict] = field(default_factory=OrderedDict)


class ReadCache:
    """``latest()`` and ``timeline(start, end, ...)`` of one store, reused while valid."""

    def __init__(self, store: EvidenceStore, periods: int = 32) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._latest: tuple[tuple[int | None, int | None], list[EvidenceSummary]] | None = None
        self._timelines: OrderedDict[tuple[object, ...], _Timeline] = OrderedDict()
        self._periods = periods

    def latest(self) -> list[EvidenceSummary]:
        """``store.latest()``, read again only when records were added or pruned."""
        ids = self.store.id_range()
        with self._lock:
            if self._latest is not None and self._latest[0] == ids:
                return self._latest[1]
        found = self.store.latest()
        with self._lock:
            self._latest = (ids, found)
        return found

    def timeline(
        self,
        start: datetime,
        end: datetime,
        check_ids: Sequence[str],
        max_ages: Mapping[str, timedelta | None],
    ) -> list[EvidenceSummary]:
        """``compress(store.timeline(start, end, check_ids, max_ages))``, from the period's
        cached read when one starts at ``start``: extended to ``end`` with the records added
        since (read whole again when one is dated before the cached read's end)."""
        key = (start, tuple(check_ids), tuple(sorted(max_ages.items())))
        ids = self.store.id_range()
        with self._lock:
            cached = self._timelines.get(key)
        if cached is not None and cached.read_to <= end:
            reused = self._reuse(key, cached, ids, end, check_ids, max_ages)
            if reused is not None:
                return reused
        read = self.store.timeline(start, end, check_ids=check_ids, max_ages=max_ages)
        return self._keep(key, ids, end, list(read), check_ids)  # compressed as read

    def memo(
        self, history: Sequence[EvidenceSummary], start: datetime, end: datetime
    ) -> dict | None:
        """The continuity memo for ``[start, end)`` kept with ``history`` (a read this cache
        gave and still holds; dropped with it), None for any other: per (check, target) state
        changes, keyed by all they depend on besides the read (``continuity.continuity``).
        The last ``_MEMOS`` periods are kept per read (a period ending now moves with the
        clock: each request would add one)."""
        with self._lock:
            for cached in self._timelines.values():
                if cached.history is history:
                    found = cached.memos.setdefault((start, end), {})
                    cached.memos.move_to_end((start, end))
                    while len(cached.memos) > _MEMOS:
                        cached.memos.popitem(last=False)
                    return found
        return None

    def _reuse(
        self,
        key: tuple[object, ...],
        cached: _Timeline,
        ids: tuple[int | None, int | None],
        end: datetime,
        check_ids: Sequence[str],
        max_ages: Mapping[str, timedelta | None],
    ) -> list[EvidenceSummary] | None:
        """The cached read serving ``[start, end)``, extended if need be; None: read again."""
        if cached.ids != ids:
            if cached.ids[0] != ids[0] or cached.ids[1] is None:
                return None  # pruned, or the store was empty
            earliest = self.store.earliest_after(cached.ids[1])
            if earliest is None or earliest < cached.read_to:
                return None  # a new record dated inside what was read
            if end == cached.read_to:  # the new records all lie after this period
                cached.ids, cached.extendable = ids, False
                return cached.history
            if not cached.extendable:
                return None
            tail = self.store.timeline(cached.read_to, end, check_ids=check_ids, max_ages=max_ages)
            history = list(compress([*cached.history, *tail], max_ages))
            return self._keep(key, ids, end, history, check_ids)
        if end == cached.read_to:
            return cached.history
        if cached.extendable:  # no record lies at or after read_to: none in [read_to, end)
            cached.read_to = end
            return cached.history
        return None

    def _keep(
        self,
        key: tuple[object, ...],
        ids: tuple[int | None, int | None],
        end: datetime,
        history: list[EvidenceSummary],
        check_ids: Sequence[str],
    ) -> list[EvidenceSummary]:
        # a period ending in the past is kept too, for requests with the same end
        later = self.store.any_between(end, _FAR, check_ids=check_ids)
        with self._lock:
            self._timelines[key] = _Timeline(ids, end, history, extendable=not later)
            self._timelines.move_to_end(key)
            while len(self._timelines) > self._periods:
                self._timelines.popitem(last=False)
        return history
