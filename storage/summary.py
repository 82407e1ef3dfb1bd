"""The run summary: a per-transition index of the sealed evidence, so that a period is read
without scanning its records.

Each row of ``evidence_run`` is one run: the consecutive records of one (check, target), in
(collected_at, id) order, with the same verdict (status and failing resources; the records of
an error run share the time of the last conclusive record before them). A row keeps its
first and last record, the last conclusive time as of its last record and the longest gap
between its records (a gap longer than a check's maximum age splits a compressed timeline:
``storage.runs``), and what its first record shows (``Head``: a period's runs are read without
their records). ``HistoryStore.timeline(max_ages=...)`` reads it: continuity over a
period (``status --from/--to``, the console, the review, the export's reports); and so does
``HistoryStore.latest_at(None)``: each pair's newest run names its newest record.

It is a cache of the records, never trusted over them: reads use it only while the evidence
id range it was derived from (``evidence_run_state``) equals the evidence table's, else they
read the records. Appends extend it in their transaction (a record dated before its (check,
target)'s newest, as buffered evidence can be, re-derives that pair), a prune re-derives it
whole, migration 0007 derives it for an existing store, and ``matches`` (run by ``annexa
verify``) compares it with a fresh derivation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Connection,
    Text,
    bindparam,
    case,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)

from storage.base import ev, failing_resources, run_state_t, run_summary_t

__all__ = [
    "HEAD_COLUMNS",
    "Head",
    "Run",
    "covers",
    "derive",
    "extend",
    "id_range",
    "matches",
    "micros",
    "newest_runs",
    "rebuild",
    "runs_at",
    "runs_between",
    "stored_verdict",
    "verdict",
]

_STATE_ID = 1
_BATCH = 2_000


@dataclass
class Run:
    """One run as stored (``id`` None until inserted)."""

    check_id: str
    target_key: str
    first_id: int
    first_at: datetime
    last_id: int
    last_at: datetime
    status: str
    failing: str
    conclusive_at: datetime | None
    max_gap_us: int
    head: Head
    id: int | None = None

    def row(self) -> dict[str, Any]:
        """The columns it is stored as (``head`` spread out, no ``id``)."""
        row = {f: getattr(self, f) for f in _RUN_FIELDS}
        row.update(zip(HEAD_COLUMNS, self.head, strict=True))
        return row

    @classmethod
    def of(cls, row: Any) -> Run:
        """A stored row (every column of ``run_summary_t``) as a run."""
        data = row._asdict()
        head = Head(*(data.pop(c) for c in HEAD_COLUMNS))
        return cls(**data, head=head)


class Head(NamedTuple):
    """What a run's first record shows beyond its verdict: a period's read takes each run
    starting in it from the summary alone, without its record."""

    provider: str
    account: str
    region: str | None
    summary: str
    error: str | None
    passed: int
    failed: int


HEAD_COLUMNS = Head._fields
_RUN_FIELDS = tuple(f.name for f in fields(Run) if f.name not in ("head", "id"))

# (id, check id, target key, collected_at, status, failing resources as JSON, head)
Item = tuple[int, str, str, datetime, str, str, Head]


def micros(delta: timedelta) -> int:
    """``delta`` in whole microseconds."""
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def follow(run: Run | None, item: Item) -> Run:
    """``run`` extended by ``item`` (the next record of its pair), or the run ``item`` starts."""
    id_, check_id, target_key, at, status, failing, head = item
    if run is not None and (run.status, run.failing) == (status, failing):
        if status != "error":
            run.max_gap_us = max(run.max_gap_us, micros(at - run.last_at))
            run.conclusive_at = at
        run.last_id, run.last_at = id_, at
        return run
    before = run.conclusive_at if run is not None else None
    conclusive = before if status == "error" else at
    return Run(check_id, target_key, id_, at, id_, at, status, failing, conclusive, 0, head)


def derive(items: Iterable[Item]) -> Iterator[Run]:
    """The runs of ``items``, ordered by (check, target, collected_at, id)."""
    run: Run | None = None
    for item in items:
        if run is not None and (run.check_id, run.target_key) != (item[1], item[2]):
            yield run
            run = None
        nxt = follow(run, item)
        if run is not None and nxt is not run:
            yield run
        run = nxt
    if run is not None:
        yield run


def _items(conn: Connection, pair: tuple[str, str] | None = None) -> Iterator[Item]:
    """Every record (or one pair's) as an ``Item``, in run order; findings parsed once per
    distinct text of a pair."""
    query = select(
        ev.c.id,
        ev.c.check_id,
        ev.c.target_key,
        ev.c.collected_at,
        ev.c.status,
        cast(ev.c.findings, Text),
        ev.c.provider,
        ev.c.account,
        ev.c.region,
        ev.c.summary,
        ev.c.error,
    ).order_by(ev.c.check_id, ev.c.target_key, ev.c.collected_at, ev.c.id)
    if pair is not None:
        query = query.where(ev.c.check_id == pair[0], ev.c.target_key == pair[1])
    seen: tuple[str | None, tuple[int, int, str]] = (None, (0, 0, "[]"))
    rows = conn.execute(query, execution_options={"yield_per": _BATCH})
    for id_, check_id, target_key, at, status, text_, *shown in rows:
        if seen[0] != text_:
            seen = (text_, stored_verdict(json.loads(text_)))
        passed, failed, failing = seen[1]
        yield id_, check_id, target_key, at, status, failing, Head(*shown, passed, failed)


def verdict(findings: list[dict] | None) -> tuple[int, int, tuple[str, ...]]:
    """The passing and failing finding counts of ``findings`` and its failing resources."""
    passed = sum(1 for f in findings or [] if f.get("passed"))
    return passed, len(findings or []) - passed, failing_resources(findings)


def stored_verdict(findings: list[dict] | None) -> tuple[int, int, str]:
    """``verdict``, the failing resources as the summary stores them (JSON)."""
    passed, failed, failing = verdict(findings)
    return passed, failed, json.dumps(failing)


def _insert(conn: Connection, runs: Iterable[Run]) -> None:
    batch: list[dict[str, Any]] = []
    for run in runs:
        batch.append(run.row())
        if len(batch) == _BATCH:
            conn.execute(insert(run_summary_t), batch)
            batch = []
    if batch:
        conn.execute(insert(run_summary_t), batch)


def _set_state(conn: Connection, low: int | None, high: int | None) -> None:
    conn.execute(delete(run_state_t))
    conn.execute(insert(run_state_t), {"id": _STATE_ID, "low_id": low, "high_id": high})


def id_range(conn: Connection) -> tuple[int | None, int | None]:
    """The lowest and highest evidence id, one aggregate per query (an index seek each)."""
    low = conn.execute(select(func.min(ev.c.id))).scalar_one()
    high = conn.execute(select(func.max(ev.c.id))).scalar_one()
    return low, high


def rebuild(conn: Connection) -> None:
    """Derive the whole summary again from the records (in the caller's write transaction)."""
    conn.execute(delete(run_summary_t))
    _insert(conn, derive(_items(conn)))
    _set_state(conn, *id_range(conn))


def covers(conn: Connection) -> bool:
    """Whether the summary was derived from exactly the records stored now."""
    state = conn.execute(select(run_state_t.c.low_id, run_state_t.c.high_id)).first()
    return state is not None and tuple(state) == id_range(conn)


def extend(conn: Connection, items: list[Item]) -> None:
    """Fold records just appended (ids above every stored one) into the summary, in the
    append's transaction; nothing when the summary did not cover the store before them."""
    if not items:
        return
    first = min(i[0] for i in items)
    state = conn.execute(select(run_state_t.c.low_id, run_state_t.c.high_id)).first()
    before = conn.execute(select(func.max(ev.c.id)).where(ev.c.id < first)).scalar_one()
    if state is None or state.high_id != before:
        return  # stale already (e.g. a replica's copied records): reads use the records
    by_pair: dict[tuple[str, str], list[Item]] = {}
    for item in sorted(items, key=lambda i: (i[3], i[0])):
        by_pair.setdefault((item[1], item[2]), []).append(item)
    last = _last_runs(conn, list(by_pair))
    changed: list[Run] = []
    added: list[Run] = []
    for pair, new in by_pair.items():
        run = last.get(pair)
        if run is not None and new[0][3] < run.last_at:  # dated inside what is summarised
            conn.execute(
                delete(run_summary_t).where(
                    run_summary_t.c.check_id == pair[0], run_summary_t.c.target_key == pair[1]
                )
            )
            added += derive(_items(conn, pair))
            continue
        for item in new:
            nxt = follow(run, item)
            if nxt is run:
                if run.id is not None and (not changed or changed[-1] is not run):
                    changed.append(run)
            else:
                added.append(nxt)
            run = nxt
    if changed:  # one executemany: the SET columns are the parameters' other keys
        stmt = update(run_summary_t).where(run_summary_t.c.id == bindparam("run_id"))
        rows = [
            {
                "run_id": run.id,
                "last_id": run.last_id,
                "last_at": run.last_at,
                "conclusive_at": run.conclusive_at,
                "max_gap_us": run.max_gap_us,
            }
            for run in changed
        ]
        conn.execute(stmt, rows)
    _insert(conn, added)
    low = state.low_id if state.low_id is not None else first
    _set_state(conn, low, max(i[0] for i in items))


def _last_runs(conn: Connection, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], Run]:
    """The newest run of each of ``pairs`` that has one: one seek down the summary's index per
    pair of their checks (ranking every run of those checks measured 3x slower)."""
    r = run_summary_t
    wanted = set(pairs)
    checks = sorted({c for c, _ in pairs})
    found: dict[tuple[str, str], Run] = {}
    for start in range(0, len(checks), 500):
        pair = _pairs(checks[start : start + 500])
        query = select(r).select_from(pair.join(r, r.c.id == _newest_run(pair)))
        for row in conn.execute(query):
            if (row.check_id, row.target_key) in wanted:
                found[(row.check_id, row.target_key)] = Run.of(row)
    return found


def matches(conn: Connection) -> bool:
    """Whether the stored summary equals one derived afresh from the records (``verify``)."""
    stored = select(*[c for c in run_summary_t.c if c.name != "id"]).order_by(
        run_summary_t.c.check_id,
        run_summary_t.c.target_key,
        run_summary_t.c.first_at,
        run_summary_t.c.first_id,
    )
    fresh = derive(_items(conn))
    for row in conn.execute(stored):
        run = next(fresh, None)
        if run is None or Run.of(row) != run:
            return False
    return next(fresh, None) is None and covers(conn)


def _newest(at: datetime, strict: bool) -> Any:
    """The id and time of the newest record of the outer run's pair collected at or before
    ``at`` (before it when ``strict``): one index seek."""
    r = run_summary_t
    when = ev.c.collected_at < at if strict else ev.c.collected_at <= at
    return (
        select(ev.c.id, ev.c.collected_at)
        .where(ev.c.check_id == r.c.check_id, ev.c.target_key == r.c.target_key, when)
        .order_by(ev.c.collected_at.desc(), ev.c.id.desc())
        .limit(1)
        .correlate(r)
    )


def _clipped(end: datetime) -> Any:
    """The run's last conclusive time as of its last record before ``end``."""
    r = run_summary_t
    seek = _newest(end, strict=True).with_only_columns(ev.c.collected_at).scalar_subquery()
    return case(
        (or_(r.c.last_at < end, r.c.status == "error"), r.c.conclusive_at), else_=seek
    ).label("clipped")


def _shown(record: Any, clip: datetime) -> list[Any]:
    """What a read takes of a run: the record it reads (``record_id``), the run's last
    conclusive time, its longest gap and last record (``_ends``), and ``clipped``."""
    r = run_summary_t
    return [record.label("record_id"), r.c.conclusive_at, *_ends(), _clipped(clip)]


def _ends() -> list[Any]:
    """The run's longest gap and its last record (a read splits a run at a gap longer than its
    check's maximum age, reading that run's records)."""
    r = run_summary_t
    return [r.c.max_gap_us, r.c.last_at, r.c.last_id]


def runs_at(at: datetime, check_ids: list[str] | None, clip: datetime) -> Any:
    """Each (check, target)'s run at ``at``, as a subquery: its ``record_id`` is the pair's
    newest record collected at or before ``at``, ``clipped`` its last conclusive time as of
    its last record before ``clip``. The pairs come from the summary's index, each run by
    one seek down it."""
    r = run_summary_t
    pair = _pairs(check_ids)
    seek = _newest(at, strict=False).with_only_columns(ev.c.id).scalar_subquery()
    newest = case((r.c.last_at <= at, r.c.last_id), else_=seek)
    query = select(*_shown(newest, clip)).select_from(pair.join(r, r.c.id == _newest_run(pair, at)))
    return query.subquery("current")


def newest_runs(check_ids: list[str] | None) -> Any:
    """Each (check, target)'s newest run as a subquery: ``record_id``, its last record (the
    pair's newest), and ``conclusive_at``, its last conclusive time as of that record."""
    r = run_summary_t
    pair = _pairs(check_ids)
    query = select(r.c.last_id.label("record_id"), r.c.conclusive_at)
    return query.select_from(pair.join(r, r.c.id == _newest_run(pair))).subquery("newest")


def _pairs(check_ids: list[str] | None) -> Any:
    """Every (check, target) of the summary (of ``check_ids``), from its index, as a subquery."""
    r = run_summary_t
    pairs = select(r.c.check_id, r.c.target_key).group_by(r.c.check_id, r.c.target_key)
    if check_ids is not None:
        pairs = pairs.where(r.c.check_id.in_(check_ids))
    return pairs.subquery("pair")


def _newest_run(pair: Any, at: datetime | None = None) -> Any:
    """The id of ``pair``'s newest run (the newest starting at or before ``at``): one seek."""
    other = run_summary_t.alias("other")
    current = select(other.c.id).where(
        other.c.check_id == pair.c.check_id, other.c.target_key == pair.c.target_key
    )
    if at is not None:
        current = current.where(other.c.first_at <= at)
    current = current.order_by(other.c.first_at.desc(), other.c.first_id.desc()).limit(1)
    return current.correlate(pair).scalar_subquery()


def runs_between(start: datetime, end: datetime, check_ids: list[str] | None) -> Any:
    """The runs whose first record (``record_id``) was collected in ``(start, end)``, oldest
    first, as a query, with ``clipped`` at ``end`` and what that record shows
    (``HEAD_COLUMNS``), so that a period is read without its records."""
    r = run_summary_t
    query = select(
        r.c.check_id,
        r.c.target_key,
        r.c.status,
        r.c.first_at,
        r.c.failing,
        *[r.c[c] for c in HEAD_COLUMNS],
        r.c.first_id.label("record_id"),
        *_ends(),
        _clipped(end),
    )
    query = query.where(r.c.first_at > start, r.c.first_at < end)
    if check_ids is not None:
        query = query.where(r.c.check_id.in_(check_ids))
    return query.order_by(r.c.first_at, r.c.first_id)
