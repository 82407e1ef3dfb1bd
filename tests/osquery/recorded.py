"""Feed captured ``osqueryi --json`` output through the collectors' QueryRunner seam."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from collector.osquery.runner import OsqueryError, parse_rows

RECORDINGS = Path(__file__).parent / "recordings"
_TABLE = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)


class RecordedRunner:
    """Answers a statement with ``<host>/<first table after FROM>.json``; a table with no
    recording fails as osqueryi does on a platform without it. A recording that is an object
    holds the answers of several statements on one table, keyed by a word of each statement
    (``registry``: ``InactivityTimeoutSecs``, ``W32Time``)."""

    def __init__(self, host: str) -> None:
        self.folder = RECORDINGS / host
        self.statements: list[str] = []

    def __call__(self, sql: str) -> list[dict[str, Any]]:
        self.statements.append(sql)
        table = _TABLE.search(sql).group(1)  # type: ignore[union-attr]
        path = self.folder / f"{table}.json"
        if not path.is_file():
            raise OsqueryError(f"osqueryi failed (1): Error: no such table: {table}")
        recorded = json.loads(path.read_text())
        if isinstance(recorded, dict):
            (key,) = [k for k in recorded if k in sql]
            recorded = recorded[key]
        return parse_rows(json.dumps(recorded))
