"""Tabular files of the package: the SoA with automated status (CSV and XLSX), runs, manual
evidence and exceptions (CSV).

Text from outside annexa (SoA justifications, owners, resource names, exception reasons,
manual evidence notes) must never become a live formula in a spreadsheet: following OWASP's
CSV-injection rule, a text cell starting with ``= + - @``, a tab or a carriage return is
prefixed with ``'``, in CSV and XLSX alike, and XLSX text cells are typed as strings. CSV lines
end with CRLF (RFC 4180). The XLSX sheet has real date cells (UTC), a frozen header, filters
and column widths fitted to its content.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from collector.report import iso, safe_text

__all__ = ["CSV_LINE_END", "SOA_COLUMNS", "csv_bytes", "write_csv", "write_xlsx"]

CSV_LINE_END = "\r\n"
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
    "accepted_risks",
    "evidence",
)
_DATE_FORMAT = "yyyy-mm-dd hh:mm:ss"
_MAX_WIDTH = 60
_BATCH = 5_000


def _cell(value: Any) -> Any:
    """A CSV field: yes/no, ISO 8601 UTC times, numbers as they are, text made safe."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return ""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, str):
        return safe_text(value)
    return value


def csv_bytes(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> bytes:
    """UTF-8 CSV with a header row (small tables: built in memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=CSV_LINE_END)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue().encode()


def write_csv(out: IO[bytes], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A header and the rows as UTF-8 CSV into a package file, in blocks of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=CSV_LINE_END)
    writer.writerow(columns)
    for n, row in enumerate(rows, 1):
        writer.writerow([_cell(v) for v in row])
        if n % _BATCH == 0:
            out.write(buffer.getvalue().encode())
            buffer.seek(0)
            buffer.truncate()
    out.write(buffer.getvalue().encode())


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, datetime):
        # Excel has no time zones: the UTC wall time, the header says UTC
        cell = WriteOnlyCell(sheet, value=value.astimezone(UTC).replace(tzinfo=None))
        cell.number_format = _DATE_FORMAT
        return cell
    cell = WriteOnlyCell(sheet, value=safe_text(str(value)))
    cell.data_type = "s"  # never a formula or an error code such as #N/A
    return cell


def _width(value: Any) -> int:
    if isinstance(value, datetime):
        return len(_DATE_FORMAT)
    return len(_cell(value) if not isinstance(value, int | float) else str(value))


def write_xlsx(
    path: Path,
    title: str,
    columns: Sequence[str],
    rows: Iterable[dict[str, Any]],
    *,
    headers: dict[str, str] | None = None,
    more: Sequence[tuple[str, Sequence[str], Iterable[dict[str, Any]]]] = (),
) -> None:
    """A workbook (openpyxl's write-only mode): typed cells, a frozen header row with filters,
    and widths from the longest value of each column (capped). ``headers`` renames columns in
    the header row; ``more`` adds sheets as ``(title, columns, rows)``, in order."""
    book = Workbook(write_only=True)
    for sheet_title, sheet_columns, sheet_rows, names in (
        (title, columns, rows, headers),
        *((t, c, r, None) for t, c, r in more),
    ):
        _add_sheet(book, sheet_title, sheet_columns, sheet_rows, names or {})
    book.save(path)


def _add_sheet(
    book: Workbook,
    title: str,
    columns: Sequence[str],
    rows: Iterable[dict[str, Any]],
    headers: dict[str, str],
) -> None:
    table = [[row.get(c) for c in columns] for row in rows]
    labels = [headers.get(c, c) for c in columns]
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{len(table) + 1}"
    for index, label in enumerate(labels):
        longest = max([len(label), *(_width(r[index]) for r in table)])
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(longest + 2, _MAX_WIDTH)
    sheet.append([_xlsx_cell(sheet, label) for label in labels])
    for values in table:
        sheet.append([_xlsx_cell(sheet, v) for v in values])
