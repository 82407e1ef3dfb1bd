"""Run one osquery SQL statement on this machine and return its rows.

``QueryRunner`` is the seam tests feed captured ``--json`` output through; the default runs
``osqueryi --json "<SQL>"`` with a timeout.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any, Protocol

NOT_FOUND = "osqueryi not found: install osquery to audit this host"


class OsqueryError(RuntimeError):
    """osqueryi is missing, failed, or answered something that is not a JSON row list."""


class QueryRunner(Protocol):
    def __call__(self, sql: str) -> list[dict[str, Any]]:
        """The rows of ``sql`` (osquery writes every value as a string)."""
        ...


class OsqueryiRunner:
    """``osqueryi --json`` found on ``PATH`` (or at the configured path)."""

    def __init__(self, binary: str = "osqueryi", *, timeout: float = 60.0) -> None:
        self.binary = binary
        self.timeout = timeout

    def locate(self) -> str:
        path = shutil.which(self.binary)
        if path is None:
            raise OsqueryError(NOT_FOUND)
        return path

    def __call__(self, sql: str) -> list[dict[str, Any]]:
        try:
            done = subprocess.run(
                [self.locate(), "--json", sql],
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"osqueryi did not answer within {self.timeout:g} s") from None
        if done.returncode != 0:
            said = (done.stderr.strip() or done.stdout.strip()).splitlines()
            raise OsqueryError(f"osqueryi failed ({done.returncode}): {said[0] if said else ''}")
        return parse_rows(done.stdout)


def parse_rows(output: str) -> list[dict[str, Any]]:
    """The row list ``osqueryi --json`` prints (a JSON array of objects)."""
    try:
        rows = json.loads(output)
    except json.JSONDecodeError as exc:
        raise OsqueryError(f"osqueryi printed no JSON: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise OsqueryError("osqueryi printed JSON that is not a list of rows")
    return rows
