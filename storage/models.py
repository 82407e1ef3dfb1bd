"""Schema (SQLAlchemy Core tables: no ORM to import) and the engine factory for both dialects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    make_url,
)
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

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """SQLite's text parsed to aware UTC in one step (reads of many runs and records spend
        a measurable share in the two-step parse-then-convert of the default)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:  # naive UTC, as bound: parsed with its zone (5x faster than replace(tzinfo))
                return datetime.fromisoformat(value + "+00:00")
            except ValueError:  # written with an offset by something else
                return datetime.fromisoformat(value).astimezone(UTC)

        return process


metadata = MetaData()


def _col(name: str, kind: Any, *args: Any, nullable: bool = False, **kw: Any) -> Column[Any]:
    """A column, NOT NULL unless said otherwise."""
    return Column(name, kind, *args, nullable=nullable, **kw)


def _id() -> Column[Any]:
    return _col("id", BigId, primary_key=True, autoincrement=True)


# One collection run.
run_t = Table(
    "run",
    metadata,
    _col("id", String(32), primary_key=True),
    _col("started_at", UTCDateTime()),
    _col("finished_at", UTCDateTime(), nullable=True),
    _col("outcome", String(16), index=True),
    _col("trigger", String(32)),
    _col("host", String(255)),
    _col("pid", Integer),
    _col("planned", Integer),
    _col("annexa_version", String(64), nullable=True),
    # who collected: {"aws:123456789012": "arn:aws:sts::...:assumed-role/AnnexaAudit/annexa"}
    _col("collected_by", JSON, nullable=True),
)

# A distinct observations snapshot, stored once, addressed by the SHA-256 of its JSON.
observation_t = Table(
    "observation",
    metadata,
    _col("sha256", String(64), primary_key=True),
    _col("content", JSON),
)

# One sealed evidence record; append-only, chained by ``previous_hash``.
evidence_t = Table(
    "evidence",
    metadata,
    _id(),
    _col("run_id", String(32), ForeignKey("run.id")),
    _col("check_id", String(200)),
    _col("check_version", Integer),
    _col("provider", String(32)),
    _col("account", String(128)),
    _col("region", String(64), nullable=True),
    _col("target_key", String(300)),
    _col("collected_at", UTCDateTime()),
    _col("status", String(16)),
    _col("summary", Text),
    _col("findings", JSON),
    _col("passed", Integer),
    _col("failed", Integer),
    _col("observations_hash", String(64), ForeignKey("observation.sha256")),
    _col("error", Text, nullable=True),
    _col("content_hash", String(64)),
    # Unique: two writers can never chain onto the same parent, even if locking failed.
    _col("previous_hash", String(64), unique=True),
    # ``check@target@slot``: not sealed (an operational key, read by no status); verify checks
    # it names the record's own check and target
    _col("job_key", String(400), nullable=True),
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

# One link of the ledger: the chain over every fact besides evidence records (runs, manual
# evidence, exceptions, revocations, prune tombstones, status transitions). Each insert or
# change of such a row appends the row's full new content here.
ledger_t = Table(
    "ledger",
    metadata,
    _id(),
    _col("kind", String(16)),
    _col("ref", String(64)),
    _col("body", JSON),
    _col("entry_hash", String(64)),
    _col("previous_hash", String(64), unique=True),
    Index("ix_ledger_ref", "kind", "ref", "id"),
)

# A manual evidence file, stored once, addressed by the SHA-256 of its bytes.
blob_t = Table(
    "evidence_blob",
    metadata,
    _col("sha256", String(64), primary_key=True),
    _col("size", BigInteger),
    _col("content", LargeBinary),
)

# One manual evidence upload for one control; never updated.
manual_t = Table(
    "manual_evidence",
    metadata,
    _id(),
    _col("control_id", String(16)),
    _col("sha256", String(64), ForeignKey("evidence_blob.sha256")),
    _col("file_name", String(255)),
    _col("size", BigInteger),
    _col("media_type", String(255)),
    _col("note", Text),
    _col("uploaded_at", UTCDateTime()),
    _col("valid_from", UTCDateTime()),
    _col("valid_until", UTCDateTime()),
    _col("uploaded_by", String(255)),
    _col("row_hash", String(64)),
    Index("ix_manual_evidence_control", "control_id", "uploaded_at"),
)

# One approved exception (risk acceptance); never updated (revocation is a new row).
exception_t = Table(
    "risk_exception",
    metadata,
    _id(),
    _col("check_id", String(200)),
    _col("resource_pattern", String(1000)),
    _col("target_pattern", String(300)),
    _col("reason", Text),
    _col("approved_by", String(255)),
    _col("created_at", UTCDateTime()),
    _col("expires_at", UTCDateTime()),
    _col("created_by", String(255)),
    _col("row_hash", String(64)),
    Index("ix_risk_exception_check", "check_id"),
)

# The revocation of one exception (at most one per exception).
revocation_t = Table(
    "risk_exception_revocation",
    metadata,
    _id(),
    _col("exception_id", BigId, ForeignKey("risk_exception.id"), unique=True),
    _col("revoked_at", UTCDateTime()),
    _col("revoked_by", String(255)),
    _col("reason", Text),
    _col("row_hash", String(64)),
)

# What one ``prune`` removed from the head of the chain (see records.Tombstone).
tombstone_t = Table(
    "prune_tombstone",
    metadata,
    _id(),
    _col("pruned_at", UTCDateTime()),
    _col("before", UTCDateTime()),
    _col("count", BigInteger),
    _col("first_id", BigInteger),
    _col("last_id", BigInteger),
    _col("first_hash", String(64)),
    _col("last_hash", String(64)),
    _col("previous_hash", String(64)),
)

# One change of a control's status seen by the daemon, and its alert's delivery state.
transition_t = Table(
    "status_transition",
    metadata,
    _id(),
    _col("control_id", String(16)),
    _col("from_state", String(32), nullable=True),
    _col("to_state", String(32)),
    _col("at", UTCDateTime()),
    _col("reasons", JSON),
    # none (no alert for this change), pending, delivered, failed
    _col("alert_state", String(16)),
    _col("alerted_at", UTCDateTime(), nullable=True),
    Index("ix_status_transition_control", "control_id", "id"),
    Index("ix_status_transition_at", "at"),
    Index("ix_status_transition_alert", "alert_state"),
)


# One run of the run summary (``storage.summary``): consecutive records of one (check, target),
# in (collected_at, id) order, with the same verdict. Derived from the sealed records and
# re-derivable from them; never trusted over them.
run_summary_t = Table(
    "evidence_run",
    metadata,
    _id(),
    _col("check_id", String(200)),
    _col("target_key", String(300)),
    _col("first_id", BigInteger),
    _col("first_at", UTCDateTime()),
    _col("last_id", BigInteger),
    _col("last_at", UTCDateTime()),
    _col("status", String(16)),
    _col("failing", Text),  # JSON list of the failing resources
    # the last conclusive record's time as of the run's last record (an error run: the one
    # before the run)
    _col("conclusive_at", UTCDateTime(), nullable=True),
    _col("max_gap_us", BigInteger),  # the longest gap between two of its records
    # what its first record shows (``storage.summary.Head``): a period reads runs without records
    _col("provider", String(32)),
    _col("account", String(128)),
    _col("region", String(64), nullable=True),
    _col("summary", Text),
    _col("error", Text, nullable=True),
    _col("passed", Integer),  # finding counts of its first record's sealed findings
    _col("failed", Integer),
    Index("ix_evidence_run_key", "check_id", "target_key", "first_at", "first_id"),
    Index("ix_evidence_run_first", "first_at"),
)

# The evidence id range the run summary was derived from (one row, id 1): reads use the
# summary only while it equals the evidence table's.
run_state_t = Table(
    "evidence_run_state",
    metadata,
    _col("id", Integer, primary_key=True, autoincrement=False),
    _col("low_id", BigInteger, nullable=True),
    _col("high_id", BigInteger, nullable=True),
)


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
