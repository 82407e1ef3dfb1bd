"""The ledger: one SHA-256 chain over every stored fact that is not an evidence record.

Runs (and their outcome), manual evidence items, exceptions, revocations, prune tombstones and
status transitions (and their alert state) are rows that status, alerts or an audit rely on.
Each insert or change of such a row appends an entry holding the row's full new content
(``body``) to the ledger, in the same transaction, chained like evidence records:
``entry_hash = SHA-256(canonical JSON of {kind, ref, body, previous_hash})``. ``verify`` walks
the chain and compares every row with the body of its newest entry, so an edited, inserted or
deleted row is named; signed checkpoints of the ledger head (``storage.checkpoint``) make
rewriting the ledger itself visible.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, func, insert, select

from storage.base import exception_t, ledger_t, manual_t, revocation_t, run_t, tombstone_t
from storage.base import transition_t as _transition_t
from storage.records import IntegrityProblem
from storage.sealing import GENESIS_HASH, canonical_json

LEDGER_TABLES: dict[str, Table] = {
    "run": run_t,
    "manual": manual_t,
    "exception": exception_t,
    "revocation": revocation_t,
    "tombstone": tombstone_t,
    "transition": _transition_t,
}
_LABELS = {
    "run": "run",
    "manual": "manual evidence item",
    "exception": "exception",
    "revocation": "revocation",
    "tombstone": "prune tombstone",
    "transition": "status transition",
}
# kinds annexa anchors as soon as they are written (a CLI command each)
ANCHORED_AT_ONCE = ("manual", "exception", "revocation", "tombstone")


def body_of(values: dict[str, Any]) -> Any:
    """A row's ledger body: every column but ``id`` and ``row_hash``, as canonical JSON data."""
    kept = {k: v for k, v in values.items() if k not in ("id", "row_hash")}
    return json.loads(canonical_json(kept))


def entry_hash(kind: str, ref: str, body: Any, previous_hash: str) -> str:
    """SHA-256 hex of the canonical JSON of one ledger entry."""
    payload = {"kind": kind, "ref": ref, "body": body, "previous_hash": previous_hash}
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def ledger_head(conn: Connection) -> tuple[int, str]:
    """(number of entries, hash of the last one), GENESIS for an empty ledger."""
    rows = conn.execute(select(ledger_t.c.entry_hash).order_by(ledger_t.c.id.desc()).limit(1))
    last = rows.scalar_one_or_none()
    count = conn.execute(select(func.count()).select_from(ledger_t)).scalar_one()
    return count, last or GENESIS_HASH


def append_entry(conn: Connection, kind: str, ref: object, values: dict[str, Any]) -> None:
    """Append ``values`` (a row's full content) as a new entry; the caller holds the chain
    lock (``storage.base.lock_chain``) inside a write transaction."""
    previous = conn.execute(
        select(ledger_t.c.entry_hash).order_by(ledger_t.c.id.desc()).limit(1)
    ).scalar_one_or_none()
    previous = previous or GENESIS_HASH
    body = body_of(values)
    conn.execute(
        insert(ledger_t).values(
            kind=kind,
            ref=str(ref),
            body=body,
            previous_hash=previous,
            entry_hash=entry_hash(kind, str(ref), body, previous),
        )
    )


def append_row(conn: Connection, kind: str, ref: object) -> None:
    """Append the current content of row ``ref`` of ``kind``'s table."""
    table = LEDGER_TABLES[kind]
    row = conn.execute(select(table).where(table.c.id == ref)).one()
    append_entry(conn, kind, ref, row._asdict())


@dataclass
class LedgerWalk:
    """What walking the ledger found: entries, head, the hash at each position asked for, and
    the first position at which each run was recorded as finished."""

    entries: int = 0
    head: str = GENESIS_HASH
    hashes: dict[int, str] = field(default_factory=dict)
    run_finished: dict[str, int] = field(default_factory=dict)
    kinds_after: list[tuple[int, str, str]] = field(default_factory=list)


def verify_ledger(
    conn: Connection,
    problems: list[IntegrityProblem],
    positions: set[int] = frozenset(),  # type: ignore[assignment]
    tail_from: int | None = None,
) -> LedgerWalk:
    """Walk the ledger (links and hashes), then compare every ledgered table with it.

    ``positions``: 1-based entry positions whose hash to report (checkpoints); ``tail_from``:
    entries after this position are listed in ``kinds_after``."""
    walk = LedgerWalk()
    newest: dict[tuple[str, str], Any] = {}
    for row in conn.execution_options(yield_per=2_000).execute(
        select(ledger_t).order_by(ledger_t.c.id)
    ):
        walk.entries += 1
        position = walk.entries
        if not problems:
            if row.previous_hash != walk.head:
                problems.append(
                    IntegrityProblem(
                        "ledger",
                        row.id,
                        f"ledger entry #{row.id} does not continue the ledger chain",
                    )
                )
            elif entry_hash(row.kind, row.ref, row.body, row.previous_hash) != row.entry_hash:
                problems.append(
                    IntegrityProblem("ledger", row.id, f"ledger entry #{row.id} was changed")
                )
        walk.head = row.entry_hash
        if position in positions:
            walk.hashes[position] = row.entry_hash
        if tail_from is not None and position > tail_from:
            walk.kinds_after.append((position, row.kind, row.ref))
        newest[(row.kind, row.ref)] = row.body
        if row.kind == "run" and row.body.get("finished_at") and row.ref not in walk.run_finished:
            walk.run_finished[row.ref] = position
    for kind, table in LEDGER_TABLES.items():
        for problem in _compare(conn, kind, table, newest):
            if not problems:
                problems.append(problem)
    for (kind, ref), _ in newest.items():
        if not problems:
            problems.append(
                IntegrityProblem(
                    "ledger_row",
                    None,
                    f"{_LABELS[kind]} {ref} is in the ledger but was deleted from the store",
                )
            )
    return walk


def _compare(
    conn: Connection, kind: str, table: Table, newest: dict[tuple[str, str], Any]
) -> Iterator[IntegrityProblem]:
    for row in conn.execution_options(yield_per=2_000).execute(select(table)):
        values = row._asdict()
        ref = str(values["id"])
        recorded = newest.pop((kind, ref), None)
        label = f"{_LABELS[kind]} {ref}"
        if recorded is None:
            yield IntegrityProblem(
                "ledger_row", None, f"{label} is not in the ledger (added behind annexa's back)"
            )
        elif body_of(values) != recorded:
            changed = sorted(k for k, v in body_of(values).items() if recorded.get(k) != v)
            yield IntegrityProblem(
                "ledger_row",
                None,
                f"{label} was changed after it was recorded ({', '.join(changed)})",
            )
