"""Reading evidence history: records in a period, the latest evidence at an instant, and the
per-record timeline that continuity is computed from."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select

from storage.base import StoreBase, ev, failing_resources, latest_t, obs
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
    ev.c.passed,
    ev.c.failed,
    ev.c.summary,
    ev.c.error,
    ev.c.id.label("evidence_id"),
    ev.c.findings,
)


class HistoryStore(StoreBase):
    """Point-in-time and period reads over the evidence table."""

    def latest_at(
        self, at: datetime, check_ids: Iterable[str] | None = None
    ) -> list[EvidenceSummary]:
        """The newest evidence per (check, target) collected at or before ``at``.

        One index seek per known (check, target) on (check_id, target_key, collected_at, id),
        so the cost grows with the number of pairs, not with the history.
        """
        newest = (
            select(ev.c.id)
            .where(
                ev.c.check_id == latest_t.c.check_id,
                ev.c.target_key == latest_t.c.target_key,
                ev.c.collected_at <= at,
            )
            .order_by(ev.c.collected_at.desc(), ev.c.id.desc())
            .limit(1)
            .correlate(latest_t)
            .scalar_subquery()
        )
        earlier = ev.alias("earlier")
        conclusive = (
            select(earlier.c.collected_at)
            .where(
                earlier.c.check_id == latest_t.c.check_id,
                earlier.c.target_key == latest_t.c.target_key,
                earlier.c.collected_at <= at,
                earlier.c.status != "error",
            )
            .order_by(earlier.c.collected_at.desc(), earlier.c.id.desc())
            .limit(1)
            .correlate(latest_t)
            .scalar_subquery()
        )
        query = (
            select(*_SUMMARY_COLUMNS, conclusive.label("last_conclusive_at"))
            .select_from(latest_t.join(ev, ev.c.id == newest))
            .order_by(ev.c.check_id, ev.c.target_key)
        )
        if check_ids is not None:
            query = query.where(latest_t.c.check_id.in_(list(check_ids)))
        with self.engine.connect() as conn:
            return [_summary_of(row, row.last_conclusive_at) for row in conn.execute(query)]

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


def _summary_of(row: Row[Any], last_conclusive_at: datetime | None) -> EvidenceSummary:
    return EvidenceSummary(
        check_id=row.check_id,
        target_key=row.target_key,
        provider=row.provider,
        account=row.account,
        region=row.region,
        status=row.status,
        collected_at=row.collected_at,
        last_conclusive_at=last_conclusive_at,
        passed=row.passed,
        failed=row.failed,
        summary=row.summary,
        evidence_id=row.evidence_id,
        error=row.error,
        failing_resources=failing_resources(row.findings) if row.failed else (),
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
