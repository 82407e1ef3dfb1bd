"""A PostgreSQL outage under a running daemon: it keeps scheduling and collecting into its
buffer, reports unhealthy, keeps (or re-takes) its collection lock, and stores every buffered
record, chained, once the database accepts connections again."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from sqlalchemy import Connection, create_engine, make_url, text

from collector.daemon import Daemon
from collector.daemon.leader import LEADER_LOCK
from storage import EvidenceStore
from tests.conftest import DEFAULT_ADMIN_URL
from tests.daemon import (
    aws_fixture,  # noqa: F401
    running,
    settings,
    wait_for,
)

S3 = "aws.s3.public_access_blocked"
INTERVAL = 0.25  # seconds: a few job cycles fit in a short outage


class Database:
    """Admin handle on the test database: cut it off (no new connections, every session
    terminated but ``spare``) and let it back in; sessions holding the leader lock."""

    def __init__(self, url: str) -> None:
        self.name = make_url(url).database
        self.url = url
        admin_url = os.environ.get("ANNEXA_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")

    def cut(self, spare: Connection | None = None) -> None:
        spared = _backend_pid(spare) if spare is not None else 0
        with self._admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS false'))
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :db AND pid <> pg_backend_pid() AND pid <> :spared"
                ),
                {"db": self.name, "spared": spared},
            )

    def restore(self) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS true'))

    def lock_holders(self) -> list[int]:
        """Backend pids holding the daemon's advisory lock on this database."""
        key = LEADER_LOCK
        with self._admin.connect() as conn:
            return list(
                conn.execute(
                    text(
                        "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database"
                        " WHERE l.locktype = 'advisory' AND l.granted AND d.datname = :db"
                        " AND ((l.classid::bigint << 32) | l.objid::bigint) = :key"
                    ),
                    {"db": self.name, "key": key},
                ).scalars()
            )

    def lock_polls(self, but: Connection) -> set[tuple[int, datetime]]:
        """(pid, start) of the latest ``pg_try_advisory_lock`` of each session but ``but``'s:
        a new value each time a standby polls the lock."""
        with self._admin.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT pid, query_start FROM pg_stat_activity WHERE datname = :db"
                    " AND pid <> :but AND query LIKE 'SELECT pg_try_advisory_lock%'"
                ),
                {"db": self.name, "but": _backend_pid(but)},
            )
            return {(pid, start) for pid, start in rows}

    def close(self) -> None:
        self.restore()
        self._admin.dispose()


def _backend_pid(conn: Connection) -> int:
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


@pytest.fixture
def database(postgres_url: str) -> Iterator[Database]:
    db = Database(postgres_url)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def bucket(aws: None) -> None:
    boto3.client("s3").create_bucket(Bucket="open-bucket")


def health(daemon: Daemon) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{daemon.port}/healthz", timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def collected(daemon: Daemon) -> int:
    """Evaluations the daemon made (its own counter: stored or buffered alike)."""
    value = daemon.metrics.registry.get_sample_value(
        "annexa_check_duration_seconds_count", {"check": S3}
    )
    return int(value or 0)


def stored(url: str) -> int:
    with EvidenceStore.open(url) as store:
        return store.count()


def test_outage_buffers_evidence_and_every_record_lands(bucket, database):
    daemon = Daemon(settings(database.url, [S3], {S3: INTERVAL}), poll=0.1)
    with running(daemon):
        wait_for(lambda: stored(database.url) >= 2)
        assert len(database.lock_holders()) == 1
        down_at = datetime.now(UTC)
        database.cut()  # also kills the session holding the leader lock
        code, body = wait_for(lambda: (h := health(daemon))[0] == 503 and h)
        assert body["store_reachable"] is False and body["scheduler_alive"] is True
        assert body["role"] == "leader" and body["status"] == "degraded"
        assert body["causes"] == ["evidence store unreachable"]
        during = collected(daemon)
        wait_for(lambda: collected(daemon) >= during + 4)  # still scheduling and collecting
        code, body = health(daemon)
        assert code == 503 and body["buffered_evidence"] >= 4
        assert daemon.role == "leader" and database.lock_holders() == []
        up_at = datetime.now(UTC)
        database.restore()
        # healthy again with the buffer emptied (a record being flushed may be counted in the
        # very /healthz answer that first says 200: wait for both, do not sample once)
        code, body = wait_for(
            lambda: (h := health(daemon))[0] == 200 and h[1]["buffered_evidence"] == 0 and h
        )
        assert body["store_reachable"] is True
        wait_for(lambda: len(database.lock_holders()) == 1)  # the lock is taken again
        after = collected(daemon)
        wait_for(lambda: collected(daemon) >= after + 2)
    total = collected(daemon)
    with EvidenceStore.open(database.url) as store:
        assert store.count() == total  # nothing collected was lost
        assert store.verify() == (total, None)  # buffered records chained in order
        (run,) = store.runs()
        assert run.records == total and run.outcome == "complete"
        records = store.history(check_ids=[S3], limit=None)
    during_outage = [r for r in records if down_at < r.collected_at < up_at]
    assert len(during_outage) >= 4
    assert {r.status for r in records} == {"fail"}


def test_rival_taking_the_lock_during_outage_makes_the_daemon_stand_by(bucket, database):
    """The lock session dies in the outage and another daemon's session takes the lock: once
    back, this daemon stores what it buffered, closes its run as interrupted and stands by."""
    daemon = Daemon(settings(database.url, [S3], {S3: INTERVAL}), poll=0.1)
    rival_engine = create_engine(database.url, isolation_level="AUTOCOMMIT")
    try:
        with rival_engine.connect() as rival, running(daemon):
            wait_for(lambda: stored(database.url) >= 2)
            database.cut(spare=rival)
            wait_for(lambda: health(daemon)[0] == 503)
            took = rival.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK})
            assert took.scalar() is True  # the daemon's lock session is gone
            during = collected(daemon)
            wait_for(lambda: collected(daemon) >= during + 3)  # unaware yet: keeps collecting
            database.restore()
            # back: it flushes its buffer, finds the lock taken (next poll) and stands by
            code, body = wait_for(lambda: (h := health(daemon))[1]["role"] == "standby" and h)
            assert code == 200 and body["status"] == "standby" and body["buffered_evidence"] == 0
            standing_by = collected(daemon)
            assert stored(database.url) == standing_by  # every buffered record landed
            with EvidenceStore.open(database.url) as store:
                (run,) = store.runs()
                assert run.outcome == "interrupted" and run.records == standing_by
                assert store.verify() == (standing_by, None)
            # a standby does not collect: not in the time it takes to poll the lock ten times
            polls: set = set()

            def polled_ten_times() -> bool:
                polls.update(database.lock_polls(but=rival))
                return len(polls) >= 10

            wait_for(polled_ten_times)
            assert collected(daemon) == standing_by
            rival.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LEADER_LOCK})
            wait_for(lambda: daemon.role == "leader" and collected(daemon) > standing_by)
    finally:
        rival_engine.dispose()


def test_idle_daemon_reports_the_outage_and_the_recovery(bucket, database):
    """No job falls due in the outage: the daemon still notices it (and the way back)."""
    daemon = Daemon(settings(database.url, [S3], {S3: "1h"}), poll=0.1)
    with running(daemon):
        wait_for(lambda: stored(database.url) == 1)
        database.cut()
        _, body = wait_for(lambda: (h := health(daemon))[0] == 503 and h)
        assert body["store_reachable"] is False and body["buffered_evidence"] == 0
        database.restore()
        wait_for(lambda: health(daemon)[0] == 200)
        wait_for(lambda: len(database.lock_holders()) == 1)
    assert stored(database.url) == 1


def test_stop_during_outage_retries_within_the_grace_period(bucket, database):
    """SIGTERM-like stop while the store is down: buffered evidence still lands if the
    database is back before the grace period (5 s) ends, and the run is closed."""
    daemon = Daemon(settings(database.url, [S3], {S3: INTERVAL}), poll=0.1)
    with running(daemon):
        wait_for(lambda: stored(database.url) >= 1)
        database.cut()
        wait_for(lambda: health(daemon)[1]["buffered_evidence"] >= 2)
        threading.Timer(1.0, database.restore).start()
    total = collected(daemon)
    with EvidenceStore.open(database.url) as store:
        assert store.count() == total and store.verify() == (total, None)
        (run,) = store.runs()
        assert run.outcome == "complete" and run.records == total
