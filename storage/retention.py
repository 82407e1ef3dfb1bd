"""Retention and integrity: prune a prefix of the chain behind a tombstone; verify everything.

Pruning removes the longest prefix of the chain (by id) whose records were all collected
before the cut-off. A record appended late with an old ``collected_at`` therefore survives
until every record chained before it is prunable too: the remaining chain never has a hole.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, exists, func, insert, select

from storage import summary
from storage.audit import row_problem
from storage.base import (
    StoreBase,
    blob_t,
    ev,
    exception_t,
    lock_chain,
    manual_t,
    obs,
    revocation_t,
    tombstone_t,
)
from storage.ledger import ANCHORED_AT_ONCE, LedgerWalk, append_row, verify_ledger
from storage.records import Checkpoint, IntegrityProblem, NewEvidence, Tombstone, VerifyReport
from storage.sealing import GENESIS_HASH, observations_hash, seal

_SEALED = tuple(f.name for f in fields(NewEvidence) if f.name != "observations")
_CHUNK = 500


class RetentionStore(StoreBase):
    """``prune``, ``tombstones`` and ``verify_report``."""

    def prune(self, before: datetime, *, pruned_at: datetime) -> Tombstone | None:
        """Delete the chain prefix collected before ``before``; leave a tombstone.

        Observations no remaining record references are deleted; runs are kept. Returns None
        when nothing was prunable.
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
            hashes = conn.execute(select(ev.c.observations_hash).where(pruned).distinct())
            candidates = hashes.scalars().all()
            conn.execute(delete(ev).where(pruned))
            _delete_orphan_observations(conn, candidates)
            summary.rebuild(conn)
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
            append_row(conn, "tombstone", id_)
        self._anchor()
        return Tombstone(id=id_, **values)

    def refresh_summary(self) -> bool:
        """Compare the run summary (``storage.summary``) with one derived afresh from the
        records; derive it again when they differ. Whether it had to (``annexa verify``)."""
        with self.engine.connect() as conn:
            if summary.matches(conn):
                return False
        with self._write() as conn:
            lock_chain(conn)
            summary.rebuild(conn)
        return True

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

    def verify_report(
        self,
        batch: int = 5_000,
        checkpoints: Sequence[Checkpoint] = (),
        progress: Callable[[int, int], None] | None = None,
    ) -> VerifyReport:
        """Check everything stored and return the first problem found, in this order: the
        tombstone chain, each evidence record in id order (observations content, chain link,
        seal, the unsealed columns derived from sealed fields), manual evidence files
        (SHA-256 of the bytes), the seals of manual items, exceptions and revocations, the
        ledger and every ledgered row, then ``checkpoints`` (oldest first, signatures already
        checked by the caller): each must match the chain at its position, and the records
        and ledger entries after the newest one must be ones annexa could still be writing.
        ``progress(records checked, records in all)`` follows the walk of the chain."""
        problems: list[IntegrityProblem] = []
        ordered = sorted(checkpoints, key=lambda c: (c.records, c.ledger, c.at))
        newest = ordered[-1] if ordered else None
        wanted = {c.records for c in ordered}
        with self.engine.connect() as conn:
            chain = _verify_tombstones(conn, problems)
            records = _verify_chain(
                conn, chain, batch, problems, wanted, newest.records if newest else None, progress
            )
            blobs = _verify_blobs(conn, problems)
            items = _verify_rows(conn, problems)
            ledger = verify_ledger(
                conn, problems, {c.ledger for c in ordered}, newest.ledger if newest else None
            )
        _verify_checkpoints(ordered, chain, ledger, problems)
        return VerifyReport(
            records,
            blobs,
            items,
            chain.tombstones,
            problems[0] if problems else None,
            position=chain.position,
            head=chain.head,
            ledger=ledger.entries,
            ledger_head=ledger.head,
            checkpoints=len(ordered),
            unanchored=chain.position - newest.records if newest else chain.position,
        )


def _keep_from(conn: Connection, before: datetime) -> int | None:
    """The first record id that must stay: the oldest-id record collected at or after ``before``."""
    return conn.execute(select(func.min(ev.c.id)).where(ev.c.collected_at >= before)).scalar_one()


def _doomed(keep_from: int | None) -> Any:
    return ev.c.id < keep_from if keep_from is not None else ev.c.id.is_not(None)


def _delete_orphan_observations(conn: Connection, candidates: list[str]) -> None:
    used = exists().where(ev.c.observations_hash == obs.c.sha256)
    for i in range(0, len(candidates), _CHUNK):
        chunk = candidates[i : i + _CHUNK]
        conn.execute(delete(obs).where(obs.c.sha256.in_(chunk), ~used))


@dataclass
class _ChainWalk:
    """Where the evidence chain stands while (and after) it is walked."""

    tombstones: int = 0
    position: int = 0  # records ever appended up to here
    head: str = GENESIS_HASH
    pruned_until: int = 0  # positions up to here were pruned
    hashes: dict[int, str] = field(default_factory=lambda: {0: GENESIS_HASH})
    tail: dict[str, int] = field(default_factory=dict)  # run id -> first record id after it


def _verify_tombstones(conn: Connection, problems: list[IntegrityProblem]) -> _ChainWalk:
    walk = _ChainWalk()
    rows = conn.execute(select(tombstone_t).order_by(tombstone_t.c.id)).all()
    for row in rows:
        if row.previous_hash != walk.head and not problems:
            problems.append(
                IntegrityProblem(
                    "tombstone",
                    row.id,
                    f"prune tombstone #{row.id} does not continue the chain "
                    f"(expected previous hash {walk.head[:12]}, found {row.previous_hash[:12]})",
                )
            )
        walk.head = row.last_hash
        walk.position += row.count
        walk.hashes[walk.position] = row.last_hash
    walk.tombstones, walk.pruned_until = len(rows), walk.position
    return walk


def _verify_chain(
    conn: Connection,
    walk: _ChainWalk,
    batch: int,
    problems: list[IntegrityProblem],
    wanted: set[int],
    tail_after: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    bad_observations = {
        row.sha256
        for row in conn.execution_options(yield_per=batch).execute(select(obs))
        if observations_hash(row.content) != row.sha256
    }
    checked, found = 0, bool(problems)
    total = conn.execute(select(func.count()).select_from(ev)).scalar_one() if progress else 0
    for row in conn.execution_options(yield_per=batch).execute(select(ev).order_by(ev.c.id)):
        checked += 1
        if progress is not None and checked % batch == 0:
            progress(checked, total)
        walk.position += 1
        if not found:
            problem = _record_problem(row, walk.head, bad_observations)
            if problem is not None:
                problems.append(problem)
                found = True
        walk.head = row.content_hash
        if walk.position in wanted:
            walk.hashes[walk.position] = row.content_hash
        if tail_after is not None and walk.position > tail_after:
            walk.tail.setdefault(row.run_id, row.id)
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
    passed = sum(1 for f in row.findings or [] if f.get("passed"))
    derived = {
        "passed": passed,
        "failed": len(row.findings or []) - passed,
        "target_key": evidence.target_key,
    }
    for name, value in derived.items():
        if getattr(row, name) != value:
            detail = (
                f"unsealed column {name} = {getattr(row, name)!r} disagrees with the sealed "
                f"record ({value!r})"
            )
            return IntegrityProblem("unsealed_column", row.id, detail)
    job_key = getattr(row, "job_key", None)
    if job_key is not None and not job_key.startswith(f"{row.check_id}@{row.target_key}@"):
        detail = f"unsealed column job_key = {job_key!r} names another check or target"
        return IntegrityProblem("unsealed_column", row.id, detail)
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


def _verify_checkpoints(
    ordered: Sequence[Checkpoint],
    chain: _ChainWalk,
    ledger: LedgerWalk,
    problems: list[IntegrityProblem],
) -> None:
    """Each checkpoint against the chain and ledger at its positions, then the tail after the
    newest one."""
    for cp in ordered:
        if problems:
            return
        where = f"checkpoint {cp.name or _iso(cp.at)}"
        if cp.records > chain.position:
            detail = (
                f"{where} covers {cp.records} records, the store holds {chain.position}: "
                "records were deleted from the end (truncated)"
            )
        elif cp.records in chain.hashes and chain.hashes[cp.records] != cp.head:
            detail = (
                f"{where}: record {cp.records} of the chain has hash "
                f"{chain.hashes[cp.records][:12]}, the checkpoint signed {cp.head[:12]} "
                "(history rewritten or records inserted)"
            )
        elif cp.ledger > ledger.entries:
            detail = (
                f"{where} covers {cp.ledger} ledger entries, the store holds {ledger.entries}: "
                "ledger entries were deleted"
            )
        elif cp.ledger and ledger.hashes.get(cp.ledger) != cp.ledger_head:
            detail = f"{where}: the ledger at entry {cp.ledger} differs from the signed head"
        else:
            continue
        problems.append(IntegrityProblem("checkpoint", None, detail))
    if problems or not ordered:
        return
    newest = ordered[-1]
    for run_id, record_id in chain.tail.items():
        finished = ledger.run_finished.get(run_id)
        if finished is not None and finished <= newest.ledger:
            detail = (
                f"record {record_id} was appended after the newest checkpoint, to run "
                f"{run_id}, which had finished before it (appended forgery)"
            )
            problems.append(IntegrityProblem("unanchored", record_id, detail))
            return
    for position, kind, ref in ledger.kinds_after:
        if kind in ANCHORED_AT_ONCE:
            detail = (
                f"{kind} {ref} (ledger entry {position}) is not covered by any checkpoint, "
                "though annexa anchors each one as it is written"
            )
            problems.append(IntegrityProblem("unanchored", None, detail))
            return


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
