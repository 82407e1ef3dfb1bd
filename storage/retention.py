"""Retention and integrity: prune a prefix of the chain behind a tombstone; verify everything.

Pruning removes the longest prefix of the chain (by id) whose records were all collected
before the cut-off. A record appended late with an old ``collected_at`` therefore survives
until every record chained before it is prunable too: the remaining chain never has a hole.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, select

from storage.audit import row_problem
from storage.base import (
    StoreBase,
    blob_t,
    ev,
    exception_t,
    failing_resources,
    latest_t,
    lock_chain,
    manual_t,
    obs,
    revocation_t,
    tombstone_t,
)
from storage.records import IntegrityProblem, NewEvidence, Tombstone, VerifyReport
from storage.sealing import GENESIS_HASH, observations_hash, seal

_SEALED = tuple(f.name for f in fields(NewEvidence) if f.name != "observations")
_CHUNK = 500


class RetentionStore(StoreBase):
    """``prune``, ``tombstones`` and ``verify_report``."""

    def prune(self, before: datetime, *, pruned_at: datetime) -> Tombstone | None:
        """Delete the chain prefix collected before ``before``; leave a tombstone.

        Observations no remaining record references are deleted; runs are kept. A (check,
        target) whose latest record is pruned is re-pointed at its newest remaining record,
        or disappears from ``latest_evidence`` when none remains. Returns None when nothing
        was prunable.
        """
        with self._write() as conn:
            lock_chain(conn)
            doomed = _doomed(_keep_from(conn, before))
            count, first_id, last_id = conn.execute(
                select(func.count(), func.min(ev.c.id), func.max(ev.c.id)).where(doomed)
            ).one()
            if not count:
                return None
            first = conn.execute(
                select(ev.c.content_hash, ev.c.previous_hash).where(ev.c.id == first_id)
            ).one()
            last_hash = conn.execute(
                select(ev.c.content_hash).where(ev.c.id == last_id)
            ).scalar_one()
            pruned = ev.c.id <= last_id
            keys = conn.execute(
                select(latest_t.c.check_id, latest_t.c.target_key).where(
                    latest_t.c.evidence_id <= last_id
                )
            ).all()
            hashes = conn.execute(select(ev.c.observations_hash).where(pruned).distinct())
            candidates = hashes.scalars().all()
            for check_id, target_key in keys:
                conn.execute(
                    delete(latest_t).where(
                        latest_t.c.check_id == check_id, latest_t.c.target_key == target_key
                    )
                )
            conn.execute(delete(ev).where(pruned))
            for check_id, target_key in keys:
                _repoint(conn, check_id, target_key)
            _delete_orphan_observations(conn, candidates)
            values = {
                "pruned_at": pruned_at,
                "before": before,
                "count": count,
                "first_id": first_id,
                "last_id": last_id,
                "first_hash": first.content_hash,
                "last_hash": last_hash,
                "previous_hash": first.previous_hash,
            }
            id_ = conn.execute(insert(tombstone_t).returning(tombstone_t.c.id), values).scalar_one()
        return Tombstone(id=id_, **values)

    def prunable(self, before: datetime) -> int:
        """How many records ``prune(before)`` would delete."""
        with self.engine.connect() as conn:
            keep_from = _keep_from(conn, before)
            return conn.execute(select(func.count()).where(_doomed(keep_from))).scalar_one()

    def tombstones(self) -> list[Tombstone]:
        """Every prune so far, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(tombstone_t).order_by(tombstone_t.c.id)).all()
        return [Tombstone(**row._asdict()) for row in rows]

    def verify_report(self, batch: int = 5_000) -> VerifyReport:
        """Check everything stored and return the first problem found, in this order:
        the tombstone chain, each evidence record in id order (observations content, chain
        link, seal), manual evidence files (SHA-256 of the bytes), then the seals of manual
        items, exceptions and revocations."""
        problems: list[IntegrityProblem] = []
        with self.engine.connect() as conn:
            expected, tombstones = _verify_tombstones(conn, problems)
            records = _verify_chain(conn, expected, batch, problems)
            blobs = _verify_blobs(conn, problems)
            items = _verify_rows(conn, problems)
        return VerifyReport(records, blobs, items, tombstones, problems[0] if problems else None)


def _keep_from(conn: Connection, before: datetime) -> int | None:
    """The first record id that must stay: the oldest-id record collected at or after ``before``."""
    return conn.execute(select(func.min(ev.c.id)).where(ev.c.collected_at >= before)).scalar_one()


def _doomed(keep_from: int | None) -> Any:
    return ev.c.id < keep_from if keep_from is not None else ev.c.id.is_not(None)


def _repoint(conn: Connection, check_id: str, target_key: str) -> None:
    """Re-create the latest pointer of one (check, target) from its remaining records."""
    key = (ev.c.check_id == check_id, ev.c.target_key == target_key)
    row = conn.execute(
        select(ev).where(*key).order_by(ev.c.collected_at.desc(), ev.c.id.desc()).limit(1)
    ).first()
    if row is None:
        return
    conclusive = conn.execute(
        select(func.max(ev.c.collected_at)).where(*key, ev.c.status != "error")
    ).scalar_one()
    names = ("provider", "account", "region", "status", "collected_at", "passed", "failed")
    values: dict[str, Any] = {name: getattr(row, name) for name in names}
    conn.execute(
        insert(latest_t).values(
            **values,
            check_id=check_id,
            target_key=target_key,
            last_conclusive_at=conclusive,
            summary=row.summary,
            error=row.error,
            evidence_id=row.id,
            failing_resources=list(failing_resources(row.findings)),
        )
    )


def _delete_orphan_observations(conn: Connection, candidates: list[str]) -> None:
    used = exists().where(ev.c.observations_hash == obs.c.sha256)
    for i in range(0, len(candidates), _CHUNK):
        chunk = candidates[i : i + _CHUNK]
        conn.execute(delete(obs).where(obs.c.sha256.in_(chunk), ~used))


def _verify_tombstones(conn: Connection, problems: list[IntegrityProblem]) -> tuple[str, int]:
    expected = GENESIS_HASH
    rows = conn.execute(select(tombstone_t).order_by(tombstone_t.c.id)).all()
    for row in rows:
        if row.previous_hash != expected and not problems:
            problems.append(
                IntegrityProblem(
                    "tombstone",
                    row.id,
                    f"prune tombstone #{row.id} does not continue the chain "
                    f"(expected previous hash {expected[:12]}, found {row.previous_hash[:12]})",
                )
            )
        expected = row.last_hash
    return expected, len(rows)


def _verify_chain(
    conn: Connection, expected: str, batch: int, problems: list[IntegrityProblem]
) -> int:
    bad_observations = {
        row.sha256
        for row in conn.execution_options(yield_per=batch).execute(select(obs))
        if observations_hash(row.content) != row.sha256
    }
    checked, found = 0, bool(problems)
    for row in conn.execution_options(yield_per=batch).execute(select(ev).order_by(ev.c.id)):
        checked += 1
        if not found:
            problem = _record_problem(row, expected, bad_observations)
            if problem is not None:
                problems.append(problem)
                found = True
        expected = row.content_hash
    return checked


def _record_problem(row: Any, expected: str, bad_observations: set[str]) -> IntegrityProblem | None:
    if row.observations_hash in bad_observations:
        detail = f"observations {row.observations_hash[:12]} no longer match their SHA-256"
        return IntegrityProblem("observation_content", row.id, detail)
    if row.previous_hash != expected:
        detail = (
            f"chain link broken: previous hash {row.previous_hash[:12]} "
            f"!= hash of the record before it {expected[:12]}"
        )
        return IntegrityProblem("chain_link", row.id, detail)
    evidence = NewEvidence(**{n: getattr(row, n) for n in _SEALED}, observations={})
    if seal(evidence, row.previous_hash, row.observations_hash) != row.content_hash:
        detail = "content does not match its hash (a sealed field was changed)"
        return IntegrityProblem("hash_mismatch", row.id, detail)
    return None


def _verify_blobs(conn: Connection, problems: list[IntegrityProblem]) -> int:
    checked = 0
    for row in conn.execution_options(yield_per=20).execute(select(blob_t)):
        checked += 1
        actual = hashlib.sha256(row.content).hexdigest()
        if (actual != row.sha256 or len(row.content) != row.size) and not problems:
            items = conn.execute(
                select(manual_t.c.id).where(manual_t.c.sha256 == row.sha256).order_by(manual_t.c.id)
            ).scalars()
            detail = (
                f"manual evidence file {row.sha256} no longer matches its SHA-256 "
                f"(items {', '.join(f'#{i}' for i in items)})"
            )
            problems.append(IntegrityProblem("blob_content", None, detail))
    return checked


def _verify_rows(conn: Connection, problems: list[IntegrityProblem]) -> int:
    checked = 0
    for kind, table, label in (
        ("manual", manual_t, "manual evidence item"),
        ("exception", exception_t, "exception"),
        ("revocation", revocation_t, "revocation"),
    ):
        for row in conn.execute(select(table).order_by(table.c.id)):
            checked += 1
            if row_problem(kind, row) and not problems:
                detail = f"{label} #{row.id} was changed after it was recorded"
                problems.append(IntegrityProblem("row_seal", row.id, detail))
    return checked
