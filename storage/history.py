"""Reading evidence history: records in a period, the latest evidence at an instant, and the
per-record timeline that continuity is computed from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Row, String, func, select, text

from storage.base import StoreBase, ev, failing_resources, obs
from storage.records import EvidenceRecord, EvidenceSummary, NewEvidence

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
    ev.c.findings,
)


class HistoryStore(StoreBase):
    """Point-in-time and period reads over the evidence table."""

    def latest_at(
        self, at: datetime | None = None, check_ids: Iterable[str] | None = None
    ) -> list[EvidenceSummary]:
        """The newest evidence per (check, target) collected at or before ``at`` (None: ever),
        read from the sealed records alone.

        The (check, target) pairs come from a skip scan of the index on (check_id, target_key,
        collected_at, id), then one index seek per pair for its newest record and one for its
        newest conclusive one: the cost grows with the number of pairs, not with the history.
        Finding counts and failing resources come from the sealed findings, never from the
        unsealed ``passed``/``failed`` columns.
        """
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
        if check_ids is not None:
            query = query.where(keys.c.check_id.in_(list(check_ids)))
        with self.engine.connect() as conn:
            return [_summary_of(row, row.last_conclusive_at) for row in conn.execute(query)]

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

    def timeline(
        self,
        start: datetime,
        end: datetime,
        *,
        check_ids: Iterable[str] | None = None,
        batch: int = 2_000,
    ) -> Iterator[EvidenceSummary]:
        """What each (check, target) showed from ``start`` to ``end``, as summaries: first the
        latest evidence at ``start`` (the state the period opens with), then one summary per
        record collected in ``(start, end)``, oldest first, ``last_conclusive_at`` carried
        forward. Continuity is computed from this."""
        wanted = None if check_ids is None else list(check_ids)
        conclusive: dict[tuple[str, str], datetime | None] = {}
        for summary in self.latest_at(start, wanted):
            conclusive[(summary.check_id, summary.target_key)] = summary.last_conclusive_at
            yield summary
        query = (
            select(*_SUMMARY_COLUMNS)
            .where(ev.c.collected_at > start, ev.c.collected_at < end)
            .order_by(ev.c.collected_at, ev.c.id)
        )
        if wanted is not None:
            query = query.where(ev.c.check_id.in_(wanted))
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=batch).execute(query):
                key = (row.check_id, row.target_key)
                if row.status != "error":
                    conclusive[key] = row.collected_at
                yield _summary_of(row, conclusive.get(key))


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


def _summary_of(row: Row[Any], last_conclusive_at: datetime | None) -> EvidenceSummary:
    passed = sum(1 for f in row.findings or [] if f.get("passed"))
    failed = len(row.findings or []) - passed
    return EvidenceSummary(
        check_id=row.check_id,
        target_key=row.target_key,
        provider=row.provider,
        account=row.account,
        region=row.region,
        status=row.status,
        collected_at=row.collected_at,
        last_conclusive_at=last_conclusive_at,
        passed=passed,
        failed=failed,
        summary=row.summary,
        evidence_id=row.evidence_id,
        error=row.error,
        failing_resources=failing_resources(row.findings) if failed else (),
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
