"""The evidence store: append-only, hash-chained evidence over SQLite or PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Text,
    cast,
    func,
    insert,
    make_url,
    or_,
    select,
    update,
)
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from storage import migrate as migrations
from storage import summary
from storage.audit import ExceptionStore, ManualStore
from storage.base import (
    ev,
    insert_on_conflict,
    lock_chain,
    obs,
    run_t,
    tombstone_t,
)
from storage.errors import StoreError, mask_url, one_line
from storage.history import HistoryStore, evidence_record
from storage.ledger import append_row, ledger_head
from storage.models import make_engine
from storage.records import (
    EvidenceRecord,
    Heads,
    NewEvidence,
    RunOutcome,
    RunRecord,
)
from storage.retention import RetentionStore
from storage.sealing import GENESIS_HASH, canonical_json, seal
from storage.transitions import TransitionStore

_NEW_FIELDS = tuple(f.name for f in fields(NewEvidence))


class EvidenceStore(HistoryStore, RetentionStore, ManualStore, ExceptionStore, TransitionStore):
    """Append-only evidence, one global SHA-256 chain; see ``open``.

    Besides evidence records it keeps manual evidence (files and items), exceptions (risk
    acceptances), prune tombstones and the daemon's status transitions; see the mixins it is
    built from.
    """

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self._masked_url = mask_url(url)
        self._host = socket.gethostname()

    # -- lifecycle -----------------------------------------------------------------------------

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> EvidenceStore:
        """Open the store at ``url``, upgrading the schema to head when ``migrate``.

        Raises StoreError (one line, password masked) when the database is unreachable, the
        URL is invalid, or the schema is newer than this code (or behind and not migrating).
        """
        masked = mask_url(url)
        password = _password(url)
        try:
            engine = make_engine(url)
        except (ArgumentError, ValueError) as exc:
            raise StoreError(f"invalid database URL {masked}: {one_line(exc, password)}") from None
        except OSError as exc:
            raise StoreError(f"cannot create the directory for {masked}: {exc}") from None
        except ImportError as exc:
            raise StoreError(f"no database driver for {masked}: {exc}") from None
        try:
            _ensure_schema(engine, migrate=migrate, masked=masked)
        except StoreError:
            engine.dispose()
            raise
        except (SQLAlchemyError, OSError) as exc:
            engine.dispose()
            raise StoreError(
                f"cannot open evidence store {masked}: {one_line(exc, password)}"
            ) from None
        return cls(engine, url)

    def close(self) -> None:
        """Release all connections."""
        self.engine.dispose()

    def __enter__(self) -> EvidenceStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"EvidenceStore({self._masked_url!r})"

    # -- runs ----------------------------------------------------------------------------------

    def start_run(
        self,
        *,
        started_at: datetime,
        trigger: str = "cli",
        planned: int = 0,
        annexa_version: str | None = None,
        collected_by: dict[str, str | None] | None = None,
    ) -> str:
        """Record a new run as "running" on this host and pid (ledgered), with the accounts it
        covers (``collected_by``: see :meth:`set_run_accounts`); return its id."""
        run_id = uuid.uuid4().hex
        with self._write() as conn:
            lock_chain(conn)
            conn.execute(
                insert(run_t).values(
                    id=run_id,
                    started_at=started_at,
                    finished_at=None,
                    outcome="running",
                    trigger=trigger,
                    host=self._host,
                    pid=os.getpid(),
                    planned=planned,
                    annexa_version=annexa_version,
                    collected_by=_sorted(collected_by),
                )
            )
            append_row(conn, "run", run_id)
        return run_id

    def finish_run(
        self,
        run_id: str,
        *,
        finished_at: datetime,
        outcome: RunOutcome,
        collected_by: dict[str, str | None] | None = None,
    ) -> None:
        """Close a run with its outcome (and, when given, its accounts) (ledgered)."""
        values: dict[str, Any] = {"finished_at": finished_at, "outcome": outcome}
        if collected_by is not None:
            values["collected_by"] = _sorted(collected_by)
        self._update_run(run_id, values)

    def set_run_accounts(self, run_id: str, collected_by: dict[str, str | None]) -> None:
        """Replace the accounts a run covers (ledgered): ``provider:account`` -> the identity
        that reads it, None when it could not be reached (its records say why). A daemon's run
        holds those of its latest (re)load; status counts the accounts of the newest run per
        provider where the config cannot name them (:meth:`run_accounts`)."""
        self._update_run(run_id, {"collected_by": _sorted(collected_by)})

    def _update_run(self, run_id: str, values: dict[str, Any]) -> None:
        with self._write() as conn:
            lock_chain(conn)
            result = conn.execute(update(run_t).where(run_t.c.id == run_id).values(**values))
            if result.rowcount:
                append_row(conn, "run", run_id)
        if result.rowcount == 0:
            raise KeyError(f"no run {run_id!r}")
        if "finished_at" in values:
            self._anchor()

    def run_accounts(self, providers: Iterable[str]) -> dict[str, frozenset[str]]:
        """Per provider, the accounts the newest run (by start) that recorded any of its
        accounts covered; a provider no run recorded is absent. One query per provider over
        the run table (a row per run or daemon start): its key, matched in the JSON text,
        picks the rows, and only the newest is read."""
        found: dict[str, frozenset[str]] = {}
        with self.engine.connect() as conn:
            for provider in sorted(set(providers)):
                text = cast(run_t.c.collected_by, Text)
                # a key starts after "{" or ","; a quote inside a JSON string is escaped
                keys = or_(*(text.like(f'%{c}"{provider}:%') for c in ("{", ",", ", ")))
                query = select(run_t.c.collected_by).where(keys)
                newest = conn.execute(
                    query.order_by(run_t.c.started_at.desc(), run_t.c.id).limit(1)
                ).scalar_one_or_none()
                accounts = [k.partition(":") for k in newest or ()]
                if any(p == provider for p, _, _ in accounts):
                    found[provider] = frozenset(a for p, _, a in accounts if p == provider)
        return found

    def runs(self, limit: int = 20) -> list[RunRecord]:
        """The newest runs first."""
        order = (run_t.c.started_at.desc(), run_t.c.id)
        newest = select(run_t).order_by(*order).limit(limit).subquery("newest")
        # the records are counted for the ``limit`` runs only (SQLite would count every run's
        # before sorting: 1M index entries for 50 rows on a 500-run store)
        query = _runs_query(newest).order_by(newest.c.started_at.desc(), newest.c.id)
        with self.engine.connect() as conn:
            return [_run_record(row) for row in conn.execute(query)]

    def get_run(self, run_id: str) -> RunRecord | None:
        """One run, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(_runs_query().where(run_t.c.id == run_id)).first()
        return None if row is None else _run_record(row)

    def reconcile_interrupted(self) -> list[str]:
        """Mark as "interrupted" the running runs of this host whose process is gone."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(run_t.c.id, run_t.c.pid, run_t.c.started_at).where(
                    run_t.c.outcome == "running", run_t.c.host == self._host
                )
            ).all()
        dead = [r.id for r in rows if not _process_alive(r.pid, r.started_at)]
        if not dead:
            return []
        with self._write() as conn:
            lock_chain(conn)
            done = (
                conn.execute(
                    update(run_t)
                    .where(run_t.c.id.in_(dead), run_t.c.outcome == "running")
                    .values(outcome="interrupted")
                    .returning(run_t.c.id)
                )
                .scalars()
                .all()
            )
            for run_id in sorted(done):
                append_row(conn, "run", run_id)
        return sorted(done)

    # -- evidence ------------------------------------------------------------------------------

    def append(self, evidence: NewEvidence) -> EvidenceRecord:
        """Seal ``evidence``, chain it and commit it in one transaction."""
        return self.append_many([evidence])[0]

    def append_many(self, items: Iterable[NewEvidence]) -> list[EvidenceRecord]:
        """Seal, chain and commit several records in one transaction, in the given order."""
        return self._append([_Prepared.of(item) for item in items])

    def append_jobs(self, items: Iterable[tuple[str, NewEvidence]]) -> list[EvidenceRecord]:
        """Like ``append_many`` for (job key, evidence) pairs, skipping every pair whose job
        key is already stored (checked under the chain lock, so two workers delivering the
        same task store it once); returns the records appended by this call."""
        prepared = []
        for job_key, item in items:
            if not job_key.startswith(f"{item.check_id}@{item.target_key}@"):
                raise ValueError(f"job key {job_key!r} names another check or target")
            prepared.append(replace(_Prepared.of(item), job_key=job_key))
        return self._append(prepared)

    def stored_jobs(self, job_keys: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """Job key -> (status, error) of those of ``job_keys`` already stored."""
        keys = sorted(set(job_keys))
        found: dict[str, tuple[str, str | None]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(keys), 500):
                query = select(ev.c.job_key, ev.c.status, ev.c.error).where(
                    ev.c.job_key.in_(keys[start : start + 500])
                )
                found |= {row.job_key: (row.status, row.error) for row in conn.execute(query)}
        return found

    def newest_id(self) -> int:
        """The id of the newest evidence record (0 when there is none)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(ev.c.id), 0))).scalar_one())

    def jobs_after(self, after_id: int) -> tuple[int, dict[str, tuple[str, str | None]]]:
        """(newest record id, job key -> (status, error)) of the records with a job key
        appended after record ``after_id``: a tail read, as appends commit in id order (one
        at a time, under the chain lock)."""
        query = (
            select(ev.c.id, ev.c.job_key, ev.c.status, ev.c.error)
            .where(ev.c.id > after_id)
            .order_by(ev.c.id)
        )
        found: dict[str, tuple[str, str | None]] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                after_id = row.id
                if row.job_key is not None:
                    found[row.job_key] = (row.status, row.error)
        return after_id, found

    def _append(self, prepared: list[_Prepared]) -> list[EvidenceRecord]:
        if not prepared:
            return []
        with self._write() as conn:
            lock_chain(conn)
            keys = [p.job_key for p in prepared if p.job_key is not None]
            if keys:
                done = set(
                    conn.execute(select(ev.c.job_key).where(ev.c.job_key.in_(keys))).scalars()
                )
                prepared = [p for p in _first_per_key(prepared) if p.job_key not in done]
                if not prepared:
                    return []
            previous = _chain_head(conn)
            _insert_observations(conn, prepared)
            rows = []
            for p in prepared:
                p.previous_hash = previous
                p.content_hash = previous = seal(p.evidence, p.previous_hash, p.obs_hash)
                rows.append(p.row())
            ids = (
                conn.execute(insert(ev).returning(ev.c.id, sort_by_parameter_order=True), rows)
                .scalars()
                .all()
            )
            stored = list(zip(prepared, ids, strict=True))
            summary.extend(conn, [p.summary_item(id_) for p, id_ in stored])
            records = [p.record(id_) for p, id_ in stored]
        return records

    def history(
        self,
        *,
        check_ids: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 100,
    ) -> list[EvidenceRecord]:
        """Records collected in ``[since, until]``, newest first.

        With ``check_ids`` and ``limit``, the newest ``limit`` of each check are found first, each
        by one walk down the (check, collected_at) index, so the cost follows ``limit`` and the
        number of checks, never the history (one sort over every record of the checks
        otherwise)."""
        query = select(ev, obs.c.content).join(obs, obs.c.sha256 == ev.c.observations_hash)
        with self.engine.connect() as conn:
            if check_ids is not None and limit is not None:
                newest = []
                for check_id in sorted(set(check_ids)):
                    per_check = _in_window(
                        select(ev.c.id, ev.c.collected_at).where(ev.c.check_id == check_id),
                        since,
                        until,
                    )
                    newest += conn.execute(
                        per_check.order_by(ev.c.collected_at.desc(), ev.c.id.desc()).limit(limit)
                    ).all()
                newest.sort(key=lambda r: (r.collected_at, r.id), reverse=True)
                query = query.where(ev.c.id.in_([r.id for r in newest[:limit]]))
            elif check_ids is not None:
                query = query.where(ev.c.check_id.in_(list(check_ids)))
            query = _in_window(query, since, until).order_by(
                ev.c.collected_at.desc(), ev.c.id.desc()
            )
            if limit is not None:
                query = query.limit(limit)
            return [evidence_record(row) for row in conn.execute(query)]

    def heads(self) -> Heads:
        """Where the evidence chain and the ledger stand now (what a checkpoint signs)."""
        with self._write() as conn:
            lock_chain(conn)  # one consistent moment on PostgreSQL too
            pruned = conn.execute(select(func.coalesce(func.sum(tombstone_t.c.count), 0)))
            remaining = conn.execute(select(func.count()).select_from(ev)).scalar_one()
            entries, ledger = ledger_head(conn)
            return Heads(int(pruned.scalar_one()) + remaining, _chain_head(conn), entries, ledger)

    def id_range(self) -> tuple[int | None, int | None]:
        """The lowest and highest evidence record id (None, None when empty): the store grows
        at the top, prune removes at the bottom, so a cache of reads can tell what changed."""
        with self.engine.connect() as conn:
            return summary.id_range(conn)

    def earliest_after(self, evidence_id: int) -> datetime | None:
        """The earliest ``collected_at`` among records with an id above ``evidence_id``."""
        query = select(func.min(ev.c.collected_at)).where(ev.c.id > evidence_id)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    def count(self) -> int:
        """Number of evidence records."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(ev)).scalar_one()

    def verify(self, batch: int = 5_000) -> tuple[int, int | None]:
        """Re-seal every record and follow the chain (see ``verify_report``).

        Returns (records checked, id of the first record whose seal, chain link or
        observations content is broken — or None when the whole chain is intact).
        """
        report = self.verify_report(batch)
        problem = report.problem
        broken = problem.record_id if problem and problem.kind in _RECORD_PROBLEMS else None
        return report.records, broken


_RECORD_PROBLEMS = ("hash_mismatch", "chain_link", "observation_content")


# -- helpers -----------------------------------------------------------------------------------


@dataclass
class _Prepared:
    """One NewEvidence with what the insert needs, computed outside the transaction."""

    evidence: NewEvidence
    obs_hash: str
    obs_json: bytes
    passed: int
    failed: int
    failing: str  # its failing resources as the run summary stores them
    previous_hash: str = ""
    content_hash: str = ""
    job_key: str | None = None

    @classmethod
    def of(cls, evidence: NewEvidence) -> _Prepared:
        if evidence.collected_at.tzinfo is None:
            raise ValueError("collected_at must be timezone-aware UTC")
        if evidence.collected_at.utcoffset():
            evidence = replace(evidence, collected_at=evidence.collected_at.astimezone(UTC))
        obs_json = canonical_json(evidence.observations)
        passed, failed, failing = summary.stored_verdict(evidence.findings)
        return cls(
            evidence=evidence,
            obs_hash=hashlib.sha256(obs_json).hexdigest(),
            obs_json=obs_json,
            passed=passed,
            failed=failed,
            failing=failing,
        )

    def row(self) -> dict[str, Any]:
        e = self.evidence
        return {
            **{n: getattr(e, n) for n in _NEW_FIELDS if n != "observations"},
            "target_key": e.target_key,
            "passed": self.passed,
            "failed": self.failed,
            "observations_hash": self.obs_hash,
            "content_hash": self.content_hash,
            "previous_hash": self.previous_hash,
            "job_key": self.job_key,
        }

    def summary_item(self, id_: int) -> summary.Item:
        e = self.evidence
        head = summary.Head(
            e.provider, e.account, e.region, e.summary, e.error, self.passed, self.failed
        )
        return id_, e.check_id, e.target_key, e.collected_at, e.status, self.failing, head

    def record(self, id_: int) -> EvidenceRecord:
        e = self.evidence
        return EvidenceRecord(
            **{n: getattr(e, n) for n in _NEW_FIELDS},
            id=id_,
            content_hash=self.content_hash,
            previous_hash=self.previous_hash,
        )


def _in_window(query: Any, since: datetime | None, until: datetime | None) -> Any:
    """``query`` limited to records collected in ``[since, until]`` (either end optional)."""
    if since is not None:
        query = query.where(ev.c.collected_at >= since)
    if until is not None:
        query = query.where(ev.c.collected_at <= until)
    return query


def _first_per_key(prepared: list[_Prepared]) -> list[_Prepared]:
    """``prepared`` without a second item for a job key already listed."""
    seen: set[str] = set()
    kept = []
    for p in prepared:
        if p.job_key is None or p.job_key not in seen:
            kept.append(p)
        if p.job_key is not None:
            seen.add(p.job_key)
    return kept


def _chain_head(conn: Connection) -> str:
    """The hash the next record chains onto: the last record's, else the last tombstone's."""
    last = conn.execute(
        select(ev.c.content_hash).order_by(ev.c.id.desc()).limit(1)
    ).scalar_one_or_none()
    if last is None:
        last = conn.execute(
            select(tombstone_t.c.last_hash).order_by(tombstone_t.c.id.desc()).limit(1)
        ).scalar_one_or_none()
    return last or GENESIS_HASH


def _insert_observations(conn: Connection, prepared: Sequence[_Prepared]) -> None:
    distinct = {p.obs_hash: p.evidence.observations for p in prepared}
    stmt = insert_on_conflict(conn, obs).on_conflict_do_nothing(index_elements=["sha256"])
    conn.execute(stmt, [{"sha256": h, "content": c} for h, c in distinct.items()])


def _sorted(collected_by: dict[str, str | None] | None) -> dict[str, str | None] | None:
    return None if collected_by is None else dict(sorted(collected_by.items()))


def _runs_query(runs: Any = run_t) -> Any:
    """``runs`` (the run table or a subquery of it) with each run's number of records."""
    records = select(func.count()).select_from(ev).where(ev.c.run_id == runs.c.id).scalar_subquery()
    return select(runs, records.label("records"))


def _run_record(row: Row[Any]) -> RunRecord:
    return RunRecord(**row._asdict())


def _process_alive(pid: int, started_at: datetime) -> bool:
    """Whether ``pid`` runs and is the process that started the run (not a zombie or reuse)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read().rsplit(")", 1)[1].split()
        with open("/proc/stat") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime"))
    except (OSError, StopIteration, IndexError, ValueError):
        return True  # no /proc: trust kill(0)
    if stat[0] == "Z":
        return False
    process_start = boot + int(stat[19]) / os.sysconf("SC_CLK_TCK")
    # A process born after the run started cannot have started it: the pid was reused.
    return process_start <= started_at.timestamp() + 2


def _password(url: str) -> str:
    try:
        return make_url(url).password or ""
    except ArgumentError:
        return ""


def _ensure_schema(engine: Engine, *, migrate: bool, masked: str) -> None:
    with engine.connect() as conn:
        current = migrations.revision_of(conn)
    if current == migrations.HEAD:
        return
    head = migrations.head_revision()
    if current is not None and not migrations.is_known_revision(current):
        raise StoreError(
            f"evidence store {masked} has schema revision {current}, newer than this "
            f"annexa (head {head}); upgrade annexa"
        )
    if not migrate:
        raise StoreError(
            f"evidence store {masked} is at schema revision {current or 'none'}, "
            f"needs {head}; run the migrations"
        )
    migrations.upgrade_engine(engine)
