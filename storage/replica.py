"""A replica: sealed records copied as they are (ids, seals and chain links kept, nothing
re-sealed, nothing ledgered) into an empty store, so that the same history reads (latest at an
instant, timeline, records in a period) answer over them. ``verify --package`` rebuilds a
package's reports from such a replica of the records the package holds; it is never a store
to collect into."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import fields
from typing import Any

from sqlalchemy import insert

from storage.base import ev, obs, run_t
from storage.base import insert_on_conflict as _upsert
from storage.records import EvidenceRecord, NewEvidence, RunRecord
from storage.sealing import observations_hash
from storage.store import EvidenceStore

__all__ = ["copy_records", "copy_runs"]

_NEW_FIELDS = tuple(f.name for f in fields(NewEvidence) if f.name != "observations")
_RUN_FIELDS = tuple(f.name for f in fields(RunRecord) if f.name != "records")
_BATCH = 1_000


def copy_runs(store: EvidenceStore, runs: Iterable[RunRecord]) -> None:
    """Insert runs (their ``records`` count is not stored: the store counts its records)."""
    rows = [{n: getattr(r, n) for n in _RUN_FIELDS} for r in runs]
    if rows:
        with store._write() as conn:
            conn.execute(insert(run_t), rows)


def copy_records(store: EvidenceStore, records: Iterable[EvidenceRecord]) -> int:
    """Insert sealed records as they are, in batches; return how many. Their runs must be
    there (``copy_runs``). IntegrityError for a duplicate id or chain link."""
    count = 0
    batch: list[EvidenceRecord] = []
    for record in records:
        batch.append(record)
        if len(batch) >= _BATCH:
            count += _insert(store, batch)
    return count + _insert(store, batch)


def _insert(store: EvidenceStore, batch: list[EvidenceRecord]) -> int:
    if not batch:
        return 0
    snapshots = {observations_hash(r.observations): r.observations for r in batch}
    rows: list[dict[str, Any]] = []
    for r in batch:
        passed = sum(1 for f in r.findings if f.get("passed"))
        failed = len(r.findings) - passed
        rows.append(
            {
                **{n: getattr(r, n) for n in _NEW_FIELDS},
                "id": r.id,
                "target_key": r.target_key,
                "passed": passed,
                "failed": failed,
                "observations_hash": observations_hash(r.observations),
                "content_hash": r.content_hash,
                "previous_hash": r.previous_hash,
            }
        )
    with store._write() as conn:
        stmt = _upsert(conn, obs).on_conflict_do_nothing(index_elements=["sha256"])
        conn.execute(stmt, [{"sha256": h, "content": c} for h, c in snapshots.items()])
        conn.execute(insert(ev), rows)
    count = len(batch)
    batch.clear()
    return count
