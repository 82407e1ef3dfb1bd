"""open() fails with one clear, password-free line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage import EvidenceStore, StoreError, upgrade


def test_unreachable_postgres_masks_password() -> None:
    url = "postgresql+psycopg://annexa:s3cr3t-pw@127.0.0.1:1/evidence"
    with pytest.raises(StoreError) as info:
        EvidenceStore.open(url)
    message = str(info.value)
    assert "s3cr3t-pw" not in message
    assert "postgresql+psycopg://annexa:***@127.0.0.1:1/evidence" in message
    assert "\n" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_unwritable_sqlite_path(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(StoreError) as info:
        EvidenceStore.open(f"sqlite:///{blocker / 'sub' / 'evidence.sqlite'}")
    assert "\n" not in str(info.value) and "not-a-dir" in str(info.value)


def test_invalid_url() -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        EvidenceStore.open("nonsense://user:pw@host/db")


def test_schema_newer_than_code(store_url: str) -> None:
    upgrade(store_url)
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this annexa"):
        EvidenceStore.open(store_url)


def test_unmigrated_without_migrate(sqlite_url: str) -> None:
    with pytest.raises(StoreError, match="run the migrations"):
        EvidenceStore.open(sqlite_url, migrate=False)
