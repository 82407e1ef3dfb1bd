"""What every part of the store shares: the engine, write transactions, the table handles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InternalError, OperationalError

from storage.errors import StoreError, one_line
from storage.models import (
    WRITE,
    Blob,
    Evidence,
    ExceptionRow,
    LedgerEntry,
    ManualItem,
    Observation,
    PruneTombstone,
    Revocation,
    Run,
    StatusTransition,
)

APPEND_LOCK = 0x616E6E65_78610002  # pg_advisory_xact_lock key guarding the chain head

ev = Evidence.__table__
obs = Observation.__table__
run_t = Run.__table__
blob_t = Blob.__table__
manual_t = ManualItem.__table__
exception_t = ExceptionRow.__table__
revocation_t = Revocation.__table__
tombstone_t = PruneTombstone.__table__
transition_t = StatusTransition.__table__
ledger_t = LedgerEntry.__table__


class StoreBase:
    """The engine and transactions; the store's parts (mixins) build on this."""

    engine: Engine
    _masked_url: str
    # called after each write a checkpoint should follow at once (run finished, manual
    # evidence, exception, revocation, prune); set by whoever configures the anchors
    checkpoint_hook: Callable[[Any], object] | None = None

    def _anchor(self) -> None:
        if self.checkpoint_hook is not None:
            self.checkpoint_hook(self)

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction: BEGIN IMMEDIATE on SQLite, plain on PostgreSQL. A store that
        refuses writes (read-only file or mount, read-only transaction, disk full, gone) raises
        StoreError with one line."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{WRITE: True})
                with conn.begin():
                    yield conn
        except (OperationalError, InternalError) as exc:
            raise StoreError(
                f"cannot write to the evidence store {self._masked_url}: {one_line(exc)}"
            ) from None


def lock_chain(conn: Connection) -> None:
    """Serialise chain writers on PostgreSQL (SQLite's BEGIN IMMEDIATE already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPEND_LOCK})


def insert_on_conflict(conn: Connection, table: Any) -> Any:
    """The dialect's INSERT that supports ON CONFLICT."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def failing_resources(findings: list[dict] | None) -> tuple[str, ...]:
    """Sorted distinct resources of the failing findings."""
    return tuple(sorted({str(f.get("resource")) for f in findings or [] if not f.get("passed")}))
