"""Schema (SQLAlchemy 2 typed declarative models) and the engine factory for both dialects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
    make_url,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from storage.sealing import canonical_json

SQLITE_BUSY_TIMEOUT_MS = 30_000
PG_CONNECT_TIMEOUT_S = 10
WRITE = "annexa_write"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)

# SQLite only has 64-bit INTEGER PRIMARY KEY as rowid; PostgreSQL gets BIGSERIAL.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; SQLite stores naive UTC text, PostgreSQL timestamptz."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: use timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Run(Base):
    """One collection run."""

    __tablename__ = "run"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    trigger: Mapped[str] = mapped_column(String(32))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    planned: Mapped[int] = mapped_column(Integer)
    annexa_version: Mapped[str | None] = mapped_column(String(64))
    # who collected: {"aws:123456789012": "arn:aws:sts::...:assumed-role/AnnexaAudit/annexa"}
    collected_by: Mapped[Any] = mapped_column(JSON, nullable=True)


class Observation(Base):
    """A distinct observations snapshot, stored once, addressed by the SHA-256 of its JSON."""

    __tablename__ = "observation"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[Any] = mapped_column(JSON, nullable=False)


class Evidence(Base):
    """One sealed evidence record; append-only, chained by ``previous_hash``."""

    __tablename__ = "evidence"
    __table_args__ = (
        Index("ix_evidence_check_collected", "check_id", "collected_at"),
        Index("ix_evidence_run", "run_id"),
        # latest_at(): one index seek per (check, target) for "newest record at or before t"
        Index("ix_evidence_key_collected", "check_id", "target_key", "collected_at", "id"),
        # prune: finding observations no remaining record references
        Index("ix_evidence_observations", "observations_hash"),
        # a Celery worker's job: one record per (check, target, scheduled slot), however often
        # its task is delivered (NULL for the CLI's and the local daemon's records)
        Index("ux_evidence_job_key", "job_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32), ForeignKey("run.id"))
    check_id: Mapped[str] = mapped_column(String(200))
    check_version: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(32))
    account: Mapped[str] = mapped_column(String(128))
    region: Mapped[str | None] = mapped_column(String(64))
    target_key: Mapped[str] = mapped_column(String(300))
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    findings: Mapped[Any] = mapped_column(JSON, nullable=False)
    passed: Mapped[int] = mapped_column(Integer)
    failed: Mapped[int] = mapped_column(Integer)
    observations_hash: Mapped[str] = mapped_column(String(64), ForeignKey("observation.sha256"))
    error: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Unique: two writers can never chain onto the same parent, even if locking failed.
    previous_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # ``check@target@slot``: not sealed (an operational key, read by no status); verify checks
    # it names the record's own check and target
    job_key: Mapped[str | None] = mapped_column(String(400))


class LedgerEntry(Base):
    """One link of the ledger: the chain over every fact besides evidence records (runs,
    manual evidence, exceptions, revocations, prune tombstones, status transitions). Each
    insert or change of such a row appends the row's full new content here."""

    __tablename__ = "ledger"
    __table_args__ = (Index("ix_ledger_ref", "kind", "ref", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(64))
    body: Mapped[Any] = mapped_column(JSON, nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str] = mapped_column(String(64), unique=True)


class Blob(Base):
    """A manual evidence file, stored once, addressed by the SHA-256 of its bytes."""

    __tablename__ = "evidence_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class ManualItem(Base):
    """One manual evidence upload for one control; never updated."""

    __tablename__ = "manual_evidence"
    __table_args__ = (Index("ix_manual_evidence_control", "control_id", "uploaded_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    control_id: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), ForeignKey("evidence_blob.sha256"))
    file_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by: Mapped[str] = mapped_column(String(255))
    row_hash: Mapped[str] = mapped_column(String(64))


class ExceptionRow(Base):
    """One approved exception (risk acceptance); never updated (revocation is a new row)."""

    __tablename__ = "risk_exception"
    __table_args__ = (Index("ix_risk_exception_check", "check_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    check_id: Mapped[str] = mapped_column(String(200))
    resource_pattern: Mapped[str] = mapped_column(String(1000))
    target_pattern: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(255))
    row_hash: Mapped[str] = mapped_column(String(64))


class Revocation(Base):
    """The revocation of one exception (at most one per exception)."""

    __tablename__ = "risk_exception_revocation"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    exception_id: Mapped[int] = mapped_column(BigId, ForeignKey("risk_exception.id"), unique=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_by: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text)
    row_hash: Mapped[str] = mapped_column(String(64))


class PruneTombstone(Base):
    """What one ``prune`` removed from the head of the chain (see records.Tombstone)."""

    __tablename__ = "prune_tombstone"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pruned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    before: Mapped[datetime] = mapped_column(UTCDateTime())
    count: Mapped[int] = mapped_column(BigInteger)
    first_id: Mapped[int] = mapped_column(BigInteger)
    last_id: Mapped[int] = mapped_column(BigInteger)
    first_hash: Mapped[str] = mapped_column(String(64))
    last_hash: Mapped[str] = mapped_column(String(64))
    previous_hash: Mapped[str] = mapped_column(String(64))


class StatusTransition(Base):
    """One change of a control's status seen by the daemon, and its alert's delivery state."""

    __tablename__ = "status_transition"
    __table_args__ = (
        Index("ix_status_transition_control", "control_id", "id"),
        Index("ix_status_transition_at", "at"),
        Index("ix_status_transition_alert", "alert_state"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    control_id: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reasons: Mapped[Any] = mapped_column(JSON, nullable=False)
    # none (no alert for this change), pending, delivered, failed
    alert_state: Mapped[str] = mapped_column(String(16))
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


def _json_serializer(value: object) -> str:
    return canonical_json(value).decode()


def make_engine(url: str) -> Engine:
    """Engine for ``url``; SQLite gets WAL, NORMAL sync, foreign keys, busy timeout, and
    explicit ``BEGIN``/``BEGIN IMMEDIATE`` (write transactions) so writers serialise.

    Creates the parent directory of a SQLite file. May raise OSError or ArgumentError.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        connect_args = {}
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S  # fail fast, do not hang
        return create_engine(
            parsed,
            json_serializer=_json_serializer,
            json_deserializer=json.loads,
            pool_pre_ping=True,
            connect_args=connect_args,
        )
    if (
        parsed.database
        and parsed.database != ":memory:"
        and not parsed.database.startswith("file:")
    ):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        parsed,
        json_serializer=_json_serializer,
        json_deserializer=json.loads,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
