"""Per-process reuse of the console's two big reads, valid only while the store says nothing
changed underneath: the latest evidence per (check, target), and the compressed timeline of the
checks asked for over all time (with continuity's memo over it), which every period is cut from.

Evidence is append-only: new records get higher ids (appends hold the chain lock, so ids commit
in order), prune removes the lowest. So a read is reused while the store's id range is
unchanged; the timeline is extended with what arrived since (and read again whole if a new
record is dated before what was already read, as buffered evidence can be). A period's timeline
is cut from it with two point-in-time reads (the pairs' newest records at its start, and before
its end when a run crosses it): the same summaries the store's own read of the period gives
(``timeline`` then ``continuity.compress``), so every status and measure is unchanged, at the
cost of two index scans rather than a read of every run in the period. Continuity over any
period is computed from the whole timeline with the memo of each (check, target)'s state
changes over all time (``continuity.continuity``), which outlives an extension. Exceptions,
manual evidence and the SoA are not cached: every page reads them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from collector.continuity import compress, per_pair
from storage import EvidenceStore, EvidenceSummary

__all__ = ["ReadCache"]

_DAWN = datetime.min.replace(tzinfo=UTC)  # before any record: a read from here is a whole one
_FAR = datetime(9999, 12, 31, tzinfo=UTC)
_BEFORE = timedelta(microseconds=1)  # the store's times are whole microseconds
_PERIODS = 8  # period timelines kept per whole read (a period ending now moves with the clock)

Pair = tuple[str, str]


@dataclass
class _Whole:
    """The compressed timeline of some checks from before their first record to ``read_to``."""

    ids: tuple[int | None, int | None]  # the store's id range when read
    read_to: datetime
    checks: tuple[str, ...]
    history: list[EvidenceSummary]
    extendable: bool  # no record of those checks lies at or after ``read_to``
    memo: dict = field(default_factory=dict)  # continuity's, over ``history``
    # the periods cut from it: (start, end, checks) -> timeline
    periods: OrderedDict[tuple[datetime, datetime, frozenset[str]], list[EvidenceSummary]] = field(
        default_factory=OrderedDict
    )
    _by_pair: dict[Pair, list[EvidenceSummary]] | None = field(default=None, init=False, repr=False)

    def by_pair(self) -> dict[Pair, list[EvidenceSummary]]:
        """``history`` per (check, target), oldest first."""
        if self._by_pair is None:
            self._by_pair = per_pair(self.history)
        return self._by_pair


class ReadCache:
    """``latest()`` and ``timeline(start, end, ...)`` of one store, reused while valid."""

    def __init__(
        self, store: EvidenceStore, clock: Callable[[], datetime] | None = None, reads: int = 8
    ) -> None:
        """``clock``: now, so that a whole read reaches it (then any period ending before is cut
        from it without reading again); None: a whole read reaches the period first asked for."""
        self.store = store
        self.clock = clock
        self._lock = threading.Lock()
        self._reading = threading.Lock()  # one whole read at a time: a second waits and reuses
        self._latest: tuple[tuple[int | None, int | None], list[EvidenceSummary]] | None = None
        self._instants: OrderedDict[datetime, tuple[object, list[EvidenceSummary]]] = OrderedDict()
        self._wholes: OrderedDict[tuple[object, ...], _Whole] = OrderedDict()
        self._reads = reads

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

    def latest_at(self, at: datetime) -> list[EvidenceSummary]:
        """``store.latest_at(at)``, read again only when records were added or pruned (the last
        few instants asked for are kept)."""
        return self._at(at)[1]

    def timeline(
        self,
        start: datetime,
        end: datetime,
        check_ids: Sequence[str],
        max_ages: Mapping[str, timedelta | None],
    ) -> list[EvidenceSummary]:
        """``compress(store.timeline(start, end, check_ids, max_ages))``, cut from the read of
        all time of these checks or more (the overview's serves each control's page), read or
        extended to reach ``end`` first; read from the store when records keep arriving between
        the reads a cut takes."""
        wanted = frozenset(check_ids)
        for _ in range(3):
            whole = self._whole(end, wanted, max_ages)
            with self._lock:
                found = whole.periods.get((start, end, wanted))
            if found is not None:
                return found
            found = self._cut(whole, start, end, wanted)
            if found is not None:
                with self._lock:
                    whole.periods[(start, end, wanted)] = found
                    while len(whole.periods) > _PERIODS:
                        whole.periods.popitem(last=False)
                return found
        return list(self.store.timeline(start, end, check_ids=check_ids, max_ages=max_ages))

    def whole(
        self, history: Sequence[EvidenceSummary]
    ) -> tuple[list[EvidenceSummary], dict] | None:
        """For a period's timeline this cache gave (and still holds): the whole timeline it was
        cut from and continuity's memo over it; None for any other list."""
        with self._lock:
            for whole in self._wholes.values():
                if any(found is history for found in whole.periods.values()):
                    return whole.history, whole.memo
        return None

    def _whole(
        self, end: datetime, wanted: frozenset[str], max_ages: Mapping[str, timedelta | None]
    ) -> _Whole:
        """The read of all time serving ``wanted`` up to ``end``: one per ``max_ages`` (the
        overview's, of every mapped check, serves each control's page too), read again with
        more checks when asked for one it lacks."""
        key = tuple(sorted(max_ages.items()))
        with self._reading:
            ids = self.store.id_range()
            with self._lock:
                cached = self._wholes.get(key)
            if cached is not None and wanted <= set(cached.checks):
                reused = self._reuse(cached, ids, end, max_ages)
                if reused is not None:
                    return self._keep(key, reused)
            checks = tuple(sorted(wanted | set(cached.checks if cached else ())))
            until = max(end, self.clock()) if self.clock is not None else end
            read = self.store.timeline(_DAWN, until, check_ids=checks, max_ages=max_ages)
            return self._keep(key, self._made(ids, until, checks, list(read)))

    def _reuse(
        self,
        cached: _Whole,
        ids: tuple[int | None, int | None],
        end: datetime,
        max_ages: Mapping[str, timedelta | None],
    ) -> _Whole | None:
        """The cached read serving periods up to ``end``, extended if need be; None: read again."""
        if cached.ids != ids:
            if cached.ids[0] != ids[0] or cached.ids[1] is None:
                return None  # pruned, or the store was empty
            earliest = self.store.earliest_after(cached.ids[1])
            if earliest is None or earliest < cached.read_to:
                return None  # a new record dated inside what was read
        elif end <= cached.read_to:
            return cached
        elif cached.extendable:  # no record lies at or after read_to: none in [read_to, end)
            cached.read_to = end
            return cached
        # the records from read_to on (new ones, or ones dated after a read of the past)
        until = max(end, cached.read_to, self.clock() if self.clock is not None else end)
        checks = cached.checks
        tail = self.store.timeline(cached.read_to, until, check_ids=checks, max_ages=max_ages)
        history = list(compress([*cached.history, *tail], max_ages))
        extended = self._made(ids, until, checks, history)
        extended.memo = cached.memo  # keyed by each pair's events: valid for the new read
        return extended

    def _made(
        self,
        ids: tuple[int | None, int | None],
        until: datetime,
        checks: tuple[str, ...],
        history: list[EvidenceSummary],
    ) -> _Whole:
        later = self.store.any_between(until, _FAR, check_ids=checks)
        return _Whole(ids, until, checks, history, extendable=not later)

    def _keep(self, key: tuple[object, ...], whole: _Whole) -> _Whole:
        with self._lock:
            self._wholes[key] = whole
            self._wholes.move_to_end(key)
            while len(self._wholes) > self._reads:
                self._wholes.popitem(last=False)
        return whole

    def _cut(
        self, whole: _Whole, start: datetime, end: datetime, wanted: frozenset[str]
    ) -> list[EvidenceSummary] | None:
        """The period ``[start, end)`` of ``whole`` as the store reads it: each pair's newest
        record at ``start`` (with its run's last conclusive time), then each run starting in
        the period, a run reaching past ``end`` taking its last conclusive time before it.
        None when the store changed since ``whole`` was read."""
        opening = self._newest(start, wanted, whole.ids)
        if opening is None:
            return None
        by_pair = {pair: items for pair, items in whole.by_pair().items() if pair[0] in wanted}
        crossing = any(
            i.last_conclusive_at is not None and i.last_conclusive_at >= end
            for items in by_pair.values()
            for i in items
            if i.collected_at < end
        )
        at_end = self._newest(end, wanted, whole.ids) if crossing else {}
        if at_end is not None and any(s.collected_at == end for s in at_end.values()):
            at_end = self._newest(end - _BEFORE, wanted, whole.ids)  # the newest before it
        if at_end is None:
            return None
        before = {pair: s.collected_at for pair, s in at_end.items()}

        def clipped(item: EvidenceSummary, run: EvidenceSummary) -> EvidenceSummary:
            at = run.last_conclusive_at
            if item.status != "error" and at is not None and at >= end:
                at = before[(item.check_id, item.target_key)]
            elif item.status == "error":
                at = item.last_conclusive_at
            if at == item.last_conclusive_at:
                return item
            return replace(item, last_conclusive_at=at)

        found: list[EvidenceSummary] = []
        for pair, items in by_pair.items():
            first = opening.get(pair)
            inside = [i for i in items if start < i.collected_at < end]
            if first is not None:
                run = next((i for i in reversed(items) if i.collected_at <= start), None)
                if run is None:  # the store's reads disagree with the whole read: read again
                    return None
                found.append(clipped(first, run))
            found += [clipped(i, i) for i in inside]
        return found

    def _at(self, at: datetime) -> tuple[object, list[EvidenceSummary]]:
        """``store.latest_at(at)`` with the id range it was read at (None: records arrived
        while it was read; then it is not kept)."""
        ids = self.store.id_range()
        with self._lock:
            cached = self._instants.get(at)
            if cached is not None and cached[0] == ids:
                return cached
        found = self.store.latest_at(at)
        if self.store.id_range() != ids:
            return None, found
        with self._lock:
            self._instants[at] = (ids, found)
            self._instants.move_to_end(at)
            while len(self._instants) > _PERIODS:
                self._instants.popitem(last=False)
        return ids, found

    def _newest(
        self, at: datetime, wanted: frozenset[str], ids: object
    ) -> dict[Pair, EvidenceSummary] | None:
        """Each of the checks' pairs' newest record at ``at``, read at the id range ``ids``
        (None when the store has moved on since)."""
        read_at, found = self._at(at)
        if read_at != ids:
            return None
        return {(s.check_id, s.target_key): s for s in found if s.check_id in wanted}
