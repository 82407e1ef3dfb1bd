"""Tabular files of the package: the SoA with automated status (CSV and XLSX), runs, manual
evidence and exceptions (CSV)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

__all__ = ["SOA_COLUMNS", "csv_bytes", "write_xlsx"]

SOA_COLUMNS = (
    "control",
    "title",
    "theme",
    "applicable",
    "justification",
    "implementation_status",
    "owner",
    "max_evidence_age",
    "automated_status",
    "at_risk",
    "last_evidence_at",
    "continuity_percent",
    "open_findings",
)


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else value


def csv_bytes(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
    """UTF-8 CSV with a header row (small tables: built in memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue().encode()


def write_xlsx(
    path: Path, title: str, columns: Sequence[str], rows: Iterable[dict[str, Any]]
) -> None:
    """One-sheet workbook in openpyxl's write-only mode (rows streamed to disk)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_cell(row.get(c)) for c in columns])
    book.save(path)
