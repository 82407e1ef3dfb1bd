"""Alembic migrations run programmatically (no alembic.ini): upgrade and revision checks."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from storage.errors import StoreError, mask_url, one_line
from storage.models import WRITE, make_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x616E6E65_78610001  # pg_advisory_xact_lock key: one migrator at a time


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the package's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this code knows."""
    head = _script().get_current_head()
    assert head is not None
    return head


def is_known_revision(revision: str) -> bool:
    """Whether ``revision`` exists in this code's migration scripts."""
    try:
        return _script().get_revision(revision) is not None
    except Exception:  # alembic raises assorted errors for unknown ids
        return False


def revision_of(conn: Connection) -> str | None:
    """The revision stamped in the database behind ``conn`` (None when unversioned)."""
    return MigrationContext.configure(conn).get_current_revision()


def upgrade_engine(engine: Engine) -> str:
    """Upgrade the database behind ``engine`` to head under a writer lock; return the head."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    return head_revision()


def upgrade(url: str) -> str:
    """Run ``alembic upgrade head`` on ``url``; return the head revision. StoreError (one
    line) when the database cannot be created, read or written."""
    try:
        engine = make_engine(url)
    except (ArgumentError, ValueError, OSError) as exc:
        raise StoreError(f"cannot open evidence store {mask_url(url)}: {one_line(exc)}") from None
    try:
        return upgrade_engine(engine)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot upgrade evidence store {mask_url(url)}: {one_line(exc)}"
        ) from None
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None for an empty database."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return revision_of(conn)
    finally:
        engine.dispose()
