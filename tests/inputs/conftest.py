"""Fixtures for bad-input tests: a seeded store and a way to see that it did not change."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., tuple[int, str, str]]
#: ``exception add`` with every required option but --expires
EXCEPTION_ADD = (
    "exception",
    "add",
    "--check",
    "aws.iam.root_mfa_enabled",
    "--resource",
    "*",
    "--reason",
    "r",
    "--approved-by",
    "cto",
)


def store_dump(path: Path) -> list[str]:
    """Every row of the SQLite store at ``path`` as SQL text: equal dumps, unchanged store."""
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


@pytest.fixture
def seeded(annexa: Run, tmp_path: Path) -> Path:
    """The ``annexa`` fixture's store, migrated and holding one exception and one manual item."""
    note = tmp_path / "policy.txt"
    note.write_text("approved policy\n")
    for args in (
        ("db", "upgrade"),
        (*EXCEPTION_ADD, "--expires", "2099-01-01"),
        ("evidence", "add", "--control", "A.5.1", "--file", str(note), "--valid-for", "30d"),
    ):
        code, _, err = annexa(*args)
        assert code == 0, err
    return tmp_path / "data" / "annexa.sqlite"


def assert_refused(result: tuple[int, str, str], *needles: str) -> str:
    """Exit 2, one line on stderr naming what was wrong, no traceback; returns the line."""
    code, _, err = result
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("annexa: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err
    return err
