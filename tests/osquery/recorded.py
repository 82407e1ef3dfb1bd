"""Feed captured ``osqueryi --json`` output through the collectors' QueryRunner seam."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from collector.osquery.runner import OsqueryError, parse_rows

RECORDINGS = Path(__file__).parent / "recordings"
_TABLE = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)


class RecordedRunner:
    """Answers a statement with ``<host>/<first table after FROM>.json``; a table with no
    recording fails as osqueryi does on a platform without it."""

    def __init__(self, host: str) -> None:
        self.folder = RECORDINGS / host
        self.statements: list[str] = []

    def __call__(self, sql: str) -> list[dict[str, Any]]:
        self.statements.append(sql)
        table = _TABLE.search(sql).group(1)  # type: ignore[union-attr]
        path = self.folder / f"{table}.json"
        if not path.is_file():
            raise OsqueryError(f"osqueryi failed (1): Error: no such table: {table}")
        return parse_rows(path.read_text())
