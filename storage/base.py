"""What every part of the store shares: the engine, write transactions, the table handles."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import InternalError, OperationalError

from storage.errors import StoreError, one_line
from storage.models import WRITE, evidence_t, observation_t
from storage.models import blob_t as blob_t
from storage.models import exception_t as exception_t
from storage.models import ledger_t as ledger_t
from storage.models import manual_t as manual_t
from storage.models import revocation_t as revocation_t
from storage.models import run_state_t as run_state_t
from storage.models import run_summary_t as run_summary_t
from storage.models import run_t as run_t
from storage.models import tombstone_t as tombstone_t
from storage.models import transition_t as transition_t

APPEND_LOCK = 0x616E6E65_78610002  # pg_advisory_xact_lock key guarding the chain head

ev = evidence_t
obs = observation_t


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
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def failing_resources(findings: list[dict] | None) -> tuple[str, ...]:
    """Sorted distinct resources of the failing findings."""
    return tuple(sorted({str(f.get("resource")) for f in findings or [] if not f.get("passed")}))
