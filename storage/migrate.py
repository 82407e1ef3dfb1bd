"""Alembic migrations run programmatically (no alembic.ini): upgrade and revision checks.

Alembic is imported only when a database is not at :data:`HEAD` (an upgrade, an unknown
revision): opening an up-to-date store reads ``alembic_version`` with one query, so commands
that only read start fast."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from storage.errors import StoreError, mask_url, one_line
from storage.models import WRITE, make_engine

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_MIGRATION_LOCK = 0x616E6E65_78610001  # pg_advisory_xact_lock key: one migrator at a time
HEAD = "0007"  # the newest revision in migrations/versions (a test holds it to alembic's head)
_VERSION_TABLE = "alembic_version"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at the package's migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def _script() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    """The newest revision this code knows, as alembic reads it from the scripts."""
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
    if not inspect(conn).has_table(_VERSION_TABLE):
        return None
    versions = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalars().all()
    if len(versions) > 1:  # branched history: alembic names the problem
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(conn).get_current_revision()
    return versions[0] if versions else None


def upgrade_engine(engine: Engine) -> str:
    """Upgrade the database behind ``engine`` to head under a writer lock; return the head."""
    with engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            from alembic import command

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
