"""Database fixtures shared by the whole suite: a fresh SQLite file or PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from storage import EvidenceStore

DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# Property-based tests: a bounded, reproducible number of examples by default (CI), no deadline
# (a loaded 2-core machine must not turn a slow example into a failure); HYPOTHESIS_PROFILE=deep
# explores more when run by hand.
_PROFILE = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
hypothesis_settings.register_profile("ci", max_examples=12, derandomize=True, **_PROFILE)
hypothesis_settings.register_profile("deep", max_examples=300, **_PROFILE)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _postgres_unavailable(reason: str) -> None:
    message = f"PostgreSQL unavailable ({reason}); set ANNEXA_TEST_POSTGRES_URL"
    if os.environ.get("CI"):
        pytest.fail(message + " — CI must not skip PostgreSQL tests", pytrace=False)
    pytest.skip(message)


@contextmanager
def postgres_database() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped afterwards."""
    admin_url = os.environ.get("ANNEXA_TEST_POSTGRES_URL", DEFAULT_ADMIN_URL)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"annexa_test_{uuid.uuid4().hex}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        _postgres_unavailable(str(exc.orig).splitlines()[0])
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped afterwards."""
    with postgres_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a SQLite file (not yet created) in a nested temporary directory."""
    return f"sqlite:///{tmp_path / 'data' / 'evidence.sqlite'}"


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest) -> str:
    """A fresh database URL, once for SQLite and once for PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def store(store_url: str) -> Iterator[EvidenceStore]:
    """An open, migrated EvidenceStore on ``store_url``."""
    opened = EvidenceStore.open(store_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def annexa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run ``annexa ARGS`` in process against a fresh data dir; returns (code, out, err)."""
    import sys

    import cli

    monkeypatch.setenv("ANNEXA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("ANNEXA_DATABASE_URL", raising=False)
    monkeypatch.delenv("ANNEXA_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["annexa", *args])
        with pytest.raises(SystemExit) as exited:
            cli.main()
        captured = capsys.readouterr()
        return exited.value.code, captured.out, captured.err

    return invoke


@pytest.fixture
def annexa_db(annexa, store_url: str):
    """``annexa`` against ``store_url`` (SQLite and PostgreSQL): ``--database`` is prepended."""

    def invoke(*args: str) -> tuple[int, str, str]:
        return annexa("--database", store_url, *args)

    return invoke
