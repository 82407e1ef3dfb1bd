"""Schema creation through Alembic, open() idempotence and revision checks."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from storage import EvidenceStore, current_revision, migrate, upgrade
from storage.migrate import head_revision
from storage.models import metadata


def test_upgrade_creates_schema_matching_models(store_url: str) -> None:
    assert current_revision(store_url) is None
    assert upgrade(store_url) == head_revision()
    assert current_revision(store_url) == head_revision()
    engine = create_engine(store_url)
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert {"run", "observation", "evidence", "ledger"} <= tables
    assert diff == []


def test_open_twice_and_after_upgrade(store_url: str) -> None:
    upgrade(store_url)
    for _ in range(2):
        store = EvidenceStore.open(store_url)
        assert store.count() == 0
        store.close()
    assert current_revision(store_url) == head_revision()


def test_open_without_migrate_on_current_schema(store_url: str) -> None:
    EvidenceStore.open(store_url).close()
    with EvidenceStore.open(store_url, migrate=False) as store:
        assert store.verify() == (0, None)


def test_sqlite_pragmas(sqlite_url: str) -> None:
    with EvidenceStore.open(sqlite_url) as store, store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 1000


def test_head_constant_is_alembic_head():
    """Opening an up-to-date store compares with HEAD without importing alembic: it must be
    the newest migration script, or a new migration would never run."""
    assert head_revision() == migrate.HEAD
