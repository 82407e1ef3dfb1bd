"""Reading evidence history: records in a period, the latest evidence at an instant, and the
per-record timeline that continuity is computed from."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields, replace
from datetime import datetime, timedelta
from itertools import chain
from typing import Any, NamedTuple

from sqlalchemy import Connection, Row, String, Text, and_, cast, func, or_, select, text

from storage.base import StoreBase, ev, obs
from storage.records import EvidenceRecord, EvidenceSummary, NewEvidence
from storage.runs import RunKey, collapse_runs
from storage.summary import covers, micros, newest_runs, runs_at, runs_between
from storage.summary import verdict as _verdict

_NEW_FIELDS = tuple(f.name for f in fields(NewEvidence))
_SUMMARY_COLUMNS = (
    ev.c.check_id,
    ev.c.target_key,
    ev.c.provider,
    ev.c.account,
    ev.c.region,
    ev.c.status,
    ev.c.collected_at,
    ev.c.summary,
    ev.c.error,
    ev.c.id.label("evidence_id"),
    cast(ev.c.findings, Text).label("findings_text"),  # parsed once per distinct text: _Verdicts
)


class HistoryStore(StoreBase):
    """Point-in-time and period reads over the evidence table."""

    def latest_at(
        self, at: datetime | None = None, check_ids: Iterable[str] | None = None
    ) -> list[EvidenceSummary]:
        """The newest evidence per (check, target) collected at or before ``at`` (None: ever),
        its fields read from the sealed records alone.

        The (check, target) pairs come from a skip scan of the index on (check_id, target_key,
        collected_at, id), then one index seek per pair for its newest record and one for its
        newest conclusive one: the cost grows with the number of pairs, not with the history.
        Finding counts and failing resources come from the sealed findings, never from the
        unsealed ``passed``/``failed`` columns. The newest evidence ever (``at`` None) comes
        through the run summary while it covers the store: each pair's newest run names its
        last record and last conclusive time (half the skip scan's time over 1M records; at
        an instant, reading each pair's run from the summary measured no faster).
        """
        wanted = None if check_ids is None else list(check_ids)
        if at is None:
            with self.engine.connect() as conn:
                if covers(conn):
                    return _latest_from_runs(conn, wanted)
        keys = _pair_keys()
        newest = select(ev.c.id).where(ev.c.check_id == keys.c.check_id)
        newest = newest.where(ev.c.target_key == keys.c.target_key)
        earlier = ev.alias("earlier")
        conclusive = select(earlier.c.collected_at).where(
            earlier.c.check_id == keys.c.check_id,
            earlier.c.target_key == keys.c.target_key,
            earlier.c.status != "error",
        )
        if at is not None:
            newest = newest.where(ev.c.collected_at <= at)
            conclusive = conclusive.where(earlier.c.collected_at <= at)
        newest_id = (
            newest.order_by(ev.c.collected_at.desc(), ev.c.id.desc())
            .limit(1)
            .correlate(keys)
            .scalar_subquery()
        )
        conclusive_at = (
            conclusive.order_by(earlier.c.collected_at.desc(), earlier.c.id.desc())
            .limit(1)
            .correlate(keys)
            .scalar_subquery()
        )
        query = (
            select(*_SUMMARY_COLUMNS, conclusive_at.label("last_conclusive_at"))
            .select_from(keys.join(ev, ev.c.id == newest_id))
            .order_by(ev.c.check_id, ev.c.target_key)
        )
        if wanted is not None:
            query = query.where(keys.c.check_id.in_(wanted))
        verdicts = _Verdicts()
        with self.engine.connect() as conn:
            rows = conn.execute(query)
            return [_summary_of(row, row.last_conclusive_at, verdicts) for row in rows]

    def newest_conclusive_id(self, check_id: str, target_key: str, at: datetime) -> int | None:
        """The id of the newest record of (check, target) collected at or before ``at`` whose
        status is not "error": the record ``latest_at``'s ``last_conclusive_at`` is the time
        of."""
        query = (
            select(ev.c.id)
            .where(
                ev.c.check_id == check_id,
                ev.c.target_key == target_key,
                ev.c.collected_at <= at,
                ev.c.status != "error",
            )
            .order_by(ev.c.collected_at.desc(), ev.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one_or_none()

    def latest(self, check_ids: Iterable[str] | None = None) -> list[EvidenceSummary]:
        """The newest evidence per (check, target), recomputed from the sealed records."""
        return self.latest_at(None, check_ids)

    def record_by_id(self, evidence_id: int) -> EvidenceRecord | None:
        """One record with its observations, None when no record has that id."""
        query = (
            select(ev, obs.c.content)
            .join(obs, obs.c.sha256 == ev.c.observations_hash)
            .where(ev.c.id == evidence_id)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else evidence_record(row)

    def records_between(
        self,
        start: datetime,
        end: datetime,
        *,
        check_ids: Iterable[str] | None = None,
        batch: int = 1_000,
    ) -> Iterator[EvidenceRecord]:
        """Every record collected in ``[start, end)``, oldest first, with its observations;
        streamed in batches (the connection stays open while iterating)."""
        query = (
            select(ev, obs.c.content)
            .join(obs, obs.c.sha256 == ev.c.observations_hash)
            .where(ev.c.collected_at >= start, ev.c.collected_at < end)
            .order_by(ev.c.collected_at, ev.c.id)
        )
        if check_ids is not None:
            query = query.where(ev.c.check_id.in_(list(check_ids)))
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=batch).execute(query):
                yield evidence_record(row)

    def count_between(
        self, start: datetime, end: datetime, *, check_ids: Iterable[str] | None = None
    ) -> int:
        """How many records ``records_between`` yields (for progress bars)."""
        query = select(func.count()).where(ev.c.collected_at >= start, ev.c.collected_at < end)
        if check_ids is not None:
            query = query.where(ev.c.check_id.in_(list(check_ids)))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def any_between(
        self, start: datetime, end: datetime, *, check_ids: Iterable[str] | None = None
    ) -> bool:
        """Whether ``records_between`` yields any record (one index seek per check, where
        ``count_between`` counts them all)."""
        query = select(ev.c.id).where(ev.c.collected_at >= start, ev.c.collected_at < end)
        if check_ids is not None:
            query = query.where(ev.c.check_id.in_(list(check_ids)))
        with self.engine.connect() as conn:
            return conn.execute(query.limit(1)).first() is not None

    def timeline(
        self,
        start: datetime,
        end: datetime,
        *,
        check_ids: Iterable[str] | None = None,
        batch: int = 2_000,
        max_ages: Mapping[str, timedelta | None] | None = None,
    ) -> Iterator[EvidenceSummary]:
        """What each (check, target) showed from ``start`` to ``end``, as summaries: first the
        latest evidence at ``start`` (the state the period opens with), then one summary per
        record collected in ``(start, end)``, oldest first, ``last_conclusive_at`` carried
        forward. Continuity is computed from this.

        With ``max_ages`` (each check's tightest maximum age) the timeline comes run-length
        compressed while it is read (``storage.runs.collapse_runs``, the rule of
        ``collector.continuity.compress``): one summary per run, not per record, and memory in
        proportion to the state changes. Runs come out as they end, not in time order.
        """
        wanted = None if check_ids is None else list(check_ids)
        if max_ages is not None:
            with self.engine.connect() as conn:
                found = _timeline_from_runs(conn, start, end, wanted, max_ages)
            if found is not None:
                yield from found
                return
        items = self._timeline_items(start, end, wanted, batch)
        if max_ages is None:
            for item, (_, _, conclusive_at, _) in items:
                yield _as_summary(item, conclusive_at)
            return
        for head, conclusive_at in collapse_runs(items, max_ages):
            yield _as_summary(head, conclusive_at)

    def _timeline_items(
        self, start: datetime, end: datetime, wanted: list[str] | None, batch: int
    ) -> Iterator[tuple[EvidenceSummary | tuple[Any, ...], RunKey]]:
        """The timeline's items, each with its ``RunKey``; a record in the period is left as
        its row (a summary is built only for what the caller keeps). The findings come as
        their stored JSON text, parsed only when a (check, target)'s text differs from its
        previous record's: most records repeat the last verdict."""
        conclusive: dict[tuple[str, str], datetime | None] = {}
        verdicts: dict[tuple[str, str], tuple[str | None, _Verdict]] = {}
        for summary in self.latest_at(start, wanted):
            key = (summary.check_id, summary.target_key)
            at = summary.last_conclusive_at
            conclusive[key] = at
            run = (
                summary.status,
                summary.failing_resources,
                at if summary.status == "error" else None,
            )
            yield summary, (key, summary.collected_at, at, run)
        query = (
            select(*_SUMMARY_COLUMNS)
            .where(ev.c.collected_at > start, ev.c.collected_at < end)
            .order_by(ev.c.collected_at, ev.c.id)
        )
        if wanted is not None:
            query = query.where(ev.c.check_id.in_(wanted))
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=batch).execute(query):
                check_id, target_key, _, _, _, status, collected_at, _, _, _, text_ = row
                key = (check_id, target_key)
                known = verdicts.get(key)
                if known is None or known[0] != text_:
                    known = verdicts[key] = (text_, _verdict(json.loads(text_)))
                if status == "error":
                    at = conclusive.get(key)
                    run = (status, known[1][2], at)
                else:
                    at = conclusive[key] = collected_at
                    run = (status, known[1][2], None)
                yield (*row[:10], known[1]), (key, collected_at, at, run)


def _from_runs(
    conn: Connection, runs: Any, verdicts: _Verdicts
) -> list[tuple[EvidenceSummary, Any]]:
    """Each run's record (``runs.record_id``) as a summary with its last conclusive time as of
    the run's last record in the period (``clipped``), and the run's ``_End``."""
    query = select(*_SUMMARY_COLUMNS, runs.c.max_gap_us, runs.c.last_at, runs.c.last_id)
    query = query.add_columns(runs.c.clipped).join(runs, ev.c.id == runs.c.record_id)
    return [
        (_summary_of(row, row.clipped, verdicts), _End(*row[-4:-1])) for row in conn.execute(query)
    ]


class _End(NamedTuple):
    """A run's longest gap (microseconds) and its last record."""

    max_gap_us: int
    last_at: datetime
    last_id: int


def _heads(conn: Connection, query: Any) -> list[tuple[EvidenceSummary, _End]]:
    """The runs of ``query`` (``summary.runs_between``) as summaries of their first records,
    read off the summary's own columns (no record read), oldest first, each with its end."""
    failing: dict[str, tuple[str, ...]] = {}
    found = []
    for row in conn.execute(query).all():
        (
            check_id,
            target_key,
            status,
            first_at,
            text_,
            *head,
            record_id,
            gap,
            last_at,
            last_id,
            clipped,
        ) = row
        if text_ not in failing:
            failing[text_] = tuple(json.loads(text_))
        provider, account, region, summary, error, passed, failed = head
        item = EvidenceSummary(
            check_id,
            target_key,
            provider,
            account,
            region,
            status,
            first_at,
            clipped,
            passed,
            failed,
            summary,
            record_id,
            error,
            failing[text_],
        )
        found.append((item, _End(gap, last_at, last_id)))
    return found


def _latest_from_runs(conn: Connection, wanted: list[str] | None) -> list[EvidenceSummary]:
    """``latest_at(None, wanted)`` through the run summary (which covers the store)."""
    runs = newest_runs(wanted)
    query = select(*_SUMMARY_COLUMNS, runs.c.conclusive_at)
    query = query.join(runs, ev.c.id == runs.c.record_id).order_by(ev.c.check_id, ev.c.target_key)
    verdicts = _Verdicts()
    return [_summary_of(row, row.conclusive_at, verdicts) for row in conn.execute(query)]


def _timeline_from_runs(
    conn: Connection,
    start: datetime,
    end: datetime,
    wanted: list[str] | None,
    max_ages: Mapping[str, timedelta | None],
) -> list[EvidenceSummary] | None:
    """The compressed timeline read from the run summary (None when it does not cover the
    store): the opening run's newest record at ``start`` and each run starting in the period,
    each with its last conclusive time before ``end``. A run with a gap longer than its
    check's maximum age splits there: that run's records in the period are read
    (``_split``)."""
    if not covers(conn):
        return None
    verdicts = _Verdicts()
    read = _from_runs(conn, runs_at(start, wanted, end), verdicts)
    read += _heads(conn, runs_between(start, end, wanted))  # per pair: after its opening run
    limits = {check: micros(age) for check, age in max_ages.items() if age is not None}
    found = []
    for item, run_end in read:
        limit = limits.get(item.check_id)
        if limit is None or run_end.max_gap_us <= limit or item.status == "error":
            found.append(item)
        else:
            found += _split(conn, item, run_end, end, max_ages, verdicts)
    return found


def _split(
    conn: Connection,
    item: EvidenceSummary,
    run_end: _End,
    end: datetime,
    max_ages: Mapping[str, timedelta | None],
    verdicts: _Verdicts,
) -> list[EvidenceSummary]:
    """A conclusive run read from ``item`` (its first record, or its newest at the period's
    start) to its last record before ``end``, compressed: pieces wherever a record came later
    than the maximum age after the one before. The run's record times come from the index
    alone; only each later piece's first record is read whole."""
    after = or_(
        ev.c.collected_at > item.collected_at,
        and_(ev.c.collected_at == item.collected_at, ev.c.id > item.evidence_id),
    )
    within = or_(
        ev.c.collected_at < run_end.last_at,
        and_(ev.c.collected_at == run_end.last_at, ev.c.id <= run_end.last_id),
    )
    times = (
        select(ev.c.collected_at, ev.c.id)
        .where(ev.c.check_id == item.check_id, ev.c.target_key == item.target_key)
        .where(after, within, ev.c.collected_at < end)
        .order_by(ev.c.collected_at, ev.c.id)
    )
    key, verdict = (item.check_id, item.target_key), (item.status, item.failing_resources, None)
    first = (item.evidence_id, (key, item.collected_at, item.collected_at, verdict))
    rest = ((id_, (key, at, at, verdict)) for at, id_ in conn.execute(times))
    pieces = list(collapse_runs(chain([first], rest), max_ages))
    heads = select(*_SUMMARY_COLUMNS).where(ev.c.id.in_([h for h, _ in pieces[1:]]))
    rows = {row.evidence_id: row for row in conn.execute(heads)} if len(pieces) > 1 else {}
    found = [replace(item, last_conclusive_at=pieces[0][1])]
    found += [_summary_of(rows[head], last, verdicts) for head, last in pieces[1:]]
    return found


def _pair_keys() -> Any:
    """Every distinct (check_id, target_key) of the evidence table, by a recursive skip scan
    over its index (a plain DISTINCT would read every record)."""
    step = text(
        """
        WITH RECURSIVE pair(check_id, target_key) AS (
          SELECT CAST(check_id AS VARCHAR), CAST(target_key AS VARCHAR) FROM (
            SELECT check_id, target_key FROM evidence ORDER BY check_id, target_key LIMIT 1
          ) AS first_pair
          UNION ALL
          SELECT
            CAST(COALESCE(
              (SELECT p.check_id FROM evidence e
                WHERE e.check_id = p.check_id AND e.target_key > p.target_key LIMIT 1),
              (SELECT min(e.check_id) FROM evidence e WHERE e.check_id > p.check_id)
            ) AS VARCHAR),
            CAST(COALESCE(
              (SELECT min(e.target_key) FROM evidence e
                WHERE e.check_id = p.check_id AND e.target_key > p.target_key),
              (SELECT min(e.target_key) FROM evidence e WHERE e.check_id =
                (SELECT min(n.check_id) FROM evidence n WHERE n.check_id > p.check_id))
            ) AS VARCHAR)
          FROM pair p WHERE p.check_id IS NOT NULL
        )
        SELECT check_id, target_key FROM pair WHERE check_id IS NOT NULL
        """
    )
    return step.columns(check_id=String(), target_key=String()).subquery("pair")


_Verdict = tuple[int, int, tuple[str, ...]]  # passed, failed, failing resources


class _Verdicts(dict[str, _Verdict]):
    """Verdicts by findings JSON text, each distinct text parsed once per read (a (check,
    target)'s records mostly repeat its last findings)."""

    def __missing__(self, text_: str) -> _Verdict:
        found = self[text_] = _verdict(json.loads(text_))
        return found


def _summary_of(
    row: Row[Any], last_conclusive_at: datetime | None, verdicts: _Verdicts
) -> EvidenceSummary:
    return _summary(tuple(row[:10]), last_conclusive_at, verdicts[row.findings_text])


def _as_summary(
    item: EvidenceSummary | tuple[Any, ...], last_conclusive_at: datetime | None
) -> EvidenceSummary:
    if isinstance(item, EvidenceSummary):
        if item.last_conclusive_at == last_conclusive_at:
            return item
        return replace(item, last_conclusive_at=last_conclusive_at)
    return _summary(item[:10], last_conclusive_at, item[10])


def _summary(
    row: tuple[Any, ...], last_conclusive_at: datetime | None, verdict: _Verdict
) -> EvidenceSummary:
    check_id, target_key, provider, account, region, status, collected_at, summary, error, id_ = row
    passed, failed, failing = verdict
    return EvidenceSummary(
        check_id=check_id,
        target_key=target_key,
        provider=provider,
        account=account,
        region=region,
        status=status,
        collected_at=collected_at,
        last_conclusive_at=last_conclusive_at,
        passed=passed,
        failed=failed,
        summary=summary,
        evidence_id=id_,
        error=error,
        failing_resources=failing,
    )


def evidence_record(row: Row[Any]) -> EvidenceRecord:
    """An EvidenceRecord from an ``evidence`` row joined with its observations content."""
    data = row._asdict()
    return EvidenceRecord(
        **{n: data[n] for n in _NEW_FIELDS if n != "observations"},
        observations=data["content"],
        id=data["id"],
        content_hash=data["content_hash"],
        previous_hash=data["previous_hash"],
    )
