"""Statement of Applicability: which Annex A controls apply, why not, who owns them.

Loaded from YAML (``controls:`` list, or a top-level list), CSV or XLSX (first sheet, header in
row 1). Keys/headers are case-insensitive; spaces and hyphens read as underscores:
``control`` and ``applicable`` are required, ``justification`` is required for an exclusion;
``implementation_status``, ``owner`` and ``max_evidence_age`` are optional. 2013 ids are
translated to their 2022 controls. Any problem is one :class:`UserError` line naming the row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from checks.api import parse_duration
from collector.catalogue import Catalogue
from collector.errors import UserError
from collector.yamlfile import read_yaml

__all__ = ["Soa", "SoaEntry", "load_soa"]

REQUIRED = ("control", "applicable")
_TRUE = {"yes", "y", "true", "1"}
_FALSE = {"no", "n", "false", "0"}

Row = tuple[str, dict[str, Any]]  # (label such as "row 7" or "entry 3", normalised key -> value)


@dataclass(frozen=True)
class SoaEntry:
    """One control's line in the SoA (after 2013 -> 2022 translation and merging)."""

    control_id: str
    applicable: bool
    justification: str
    implementation_status: str
    owner: str
    max_evidence_age: timedelta | None
    source: str  # "soa.csv row 7", plus " (2013 id A.12.4.1)" when translated


@dataclass(frozen=True)
class Soa:
    """A loaded SoA, keyed by 2022 control id."""

    path: Path
    entries: dict[str, SoaEntry]

    def entry(self, control_id: str) -> SoaEntry | None:
        """The entry for a 2022 control id, or None when the SoA does not mention it."""
        return self.entries.get(control_id)

    def missing(self, catalogue: Catalogue) -> list[str]:
        """Catalogue control ids the SoA does not mention, in catalogue order."""
        return [c.id for c in catalogue.controls if c.id not in self.entries]


def load_soa(path: Path, catalogue: Catalogue) -> Soa:
    """Load, validate and translate a Statement of Applicability."""
    path = Path(path)
    name = path.name
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        rows = _yaml_rows(path, name)
    elif suffix == ".csv":
        rows = _table_rows(_csv_table(path, name), name)
    elif suffix == ".xlsx":
        rows = _table_rows(_xlsx_table(path, name), name)
    else:
        raise UserError(
            f"{name}: unsupported SoA format {suffix or '(none)'!r}; use .yaml, .yml, .csv or .xlsx"
        )
    return Soa(path, _build(rows, name, catalogue))


# -- readers: each yields (label, {normalised key: raw value}) ------------------------------


def _norm_key(key: object) -> str:
    return str(key).strip().lower().replace(" ", "_").replace("-", "_")


def _unreadable(name: str, exc: OSError) -> UserError:
    return UserError(f"{name}: cannot read file: {exc.strerror or exc}")


def _yaml_rows(path: Path, name: str) -> list[Row]:
    raw = read_yaml(path, label=name)
    if raw is None:
        raise UserError(f"{name}: empty file")
    items = raw
    if isinstance(raw, dict):
        keys = {_norm_key(k): k for k in raw}
        if "controls" not in keys:
            raise UserError(f"{name}: expected a 'controls:' list")
        items = raw[keys["controls"]]
    if items is None or items == []:
        raise UserError(f"{name}: empty file (no controls listed)")
    if not isinstance(items, list):
        raise UserError(f"{name}: 'controls' must be a list, got {type(items).__name__}")
    rows: list[Row] = []
    for number, item in enumerate(items, start=1):
        label = f"entry {number}"
        if not isinstance(item, dict):
            raise UserError(f"{name} {label}: expected a mapping, got {type(item).__name__}")
        values = {_norm_key(k): v for k, v in item.items()}
        for key in REQUIRED:
            if values.get(key) is None or values.get(key) == "":
                raise UserError(f"{name} {label}: missing required key {key!r}")
        rows.append((label, values))
    return rows


def _csv_table(path: Path, name: str) -> Iterator[list[Any]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
        table = list(reader)
    except OSError as exc:
        raise _unreadable(name, exc) from None
    except UnicodeDecodeError:
        raise UserError(f"{name}: not a UTF-8 text file (save the CSV as UTF-8)") from None
    except csv.Error as exc:  # strict: an unterminated quote is an error, not one long cell
        line = f" line {reader.line_num}" if reader.line_num else ""
        raise UserError(f"{name}{line}: invalid CSV: {exc}") from None
    return iter(table)


def _delimiter(text: str) -> str:
    """``,`` unless the header uses ``;`` (spreadsheets in comma-decimal locales) or tabs."""
    header = text.split("\n", 1)[0]
    if "," not in header:
        for candidate in (";", "\t"):
            if candidate in header:
                return candidate
    return ","


def _xlsx_table(path: Path, name: str) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        raise _unreadable(name, exc) from None
    except Exception as exc:  # openpyxl on a hostile file: bad zip, bad XML, missing parts...
        raise _not_xlsx(name, exc) from None
    try:
        sheet = workbook.worksheets[0]
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
    except Exception as exc:  # sheet XML is parsed lazily, row by row
        raise _not_xlsx(name, exc) from None
    finally:
        workbook.close()
    return iter(table)


def _not_xlsx(name: str, exc: Exception) -> UserError:
    if isinstance(exc, RecursionError | MemoryError):
        return UserError(f"{name}: not a readable .xlsx workbook (too deeply nested or too large)")
    return UserError(f"{name}: not a readable .xlsx workbook ({type(exc).__name__})")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table_rows(table: Iterator[list[Any]], name: str) -> list[Row]:
    header = next(table, None)
    if header is None or all(_blank(cell) for cell in header):
        raise UserError(f"{name}: empty file")
    keys = [_norm_key(cell) if not _blank(cell) else "" for cell in header]
    for key in REQUIRED:
        if key not in keys:
            raise UserError(f"{name} row 1: missing required column {key!r}")
    rows: list[Row] = []
    for number, cells in enumerate(table, start=2):
        if all(_blank(cell) for cell in cells):
            continue  # spreadsheets keep trailing blank rows
        values: dict[str, Any] = {}
        for key, cell in zip(keys, cells, strict=False):
            if key and key not in values:
                values[key] = cell
        rows.append((f"row {number}", values))
    if not rows:
        raise UserError(f"{name}: empty file (a header but no rows)")
    return rows


# -- validation and 2013 -> 2022 merging --------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
    label: str
    raw_id: str
    entry: SoaEntry


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _applicable(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if not text:
        raise UserError(f"{where}: 'applicable' is empty (use yes or no)")
    raise UserError(f"{where}: bad 'applicable' value {text!r} (use yes/no, true/false, y/n, 1/0)")


def _duration(value: Any, where: str) -> timedelta | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise UserError(f"{where}: bad max_evidence_age {value!r} (use e.g. 6h, 7d, 2w or P7D)")
    try:
        return parse_duration(value if isinstance(value, timedelta) else _text(value))
    except ValueError as exc:
        raise UserError(f"{where}: bad max_evidence_age: {exc}") from None


def _control_id(value: Any) -> str:
    text = _text(value)
    return "A" + text[1:] if text[:2] == "a." else text


def _parse(label: str, values: dict[str, Any], name: str, catalogue: Catalogue) -> list[_Parsed]:
    where = f"{name} {label}"
    raw_id = _control_id(values.get("control"))
    if not raw_id:
        raise UserError(f"{where}: empty 'control'")
    targets = catalogue.translate(raw_id)
    if not targets:
        raise UserError(f"{where}: unknown control id {raw_id!r}")
    applicable = _applicable(values.get("applicable"), where)
    justification = _text(values.get("justification"))
    if not applicable and not justification:
        raise UserError(f"{where}: control {raw_id} is excluded without a justification")
    source = where if raw_id in catalogue else f"{where} (2013 id {raw_id})"
    fields = {
        "applicable": applicable,
        "justification": justification,
        "implementation_status": _text(values.get("implementation_status")),
        "owner": _text(values.get("owner")),
        "max_evidence_age": _duration(values.get("max_evidence_age"), where),
        "source": source,
    }
    return [_Parsed(label, raw_id, SoaEntry(control_id=t, **fields)) for t in targets]


def _build(rows: list[Row], name: str, catalogue: Catalogue) -> dict[str, SoaEntry]:
    seen_raw: dict[str, str] = {}
    groups: dict[str, list[_Parsed]] = {}
    for label, values in rows:
        raw_id = _control_id(values.get("control"))
        if raw_id in seen_raw:  # before the other fields: the repeat is the likelier mistake
            raise UserError(
                f"{name} {label}: duplicate control {raw_id} (already on {seen_raw[raw_id]})"
            )
        parsed = _parse(label, values, name, catalogue)
        seen_raw[raw_id] = label
        for item in parsed:
            group = groups.setdefault(item.entry.control_id, [])
            control_id = item.entry.control_id
            if group and (raw_id == control_id or any(p.raw_id == control_id for p in group)):
                other = next((p for p in group if p.raw_id == control_id), group[0])
                raise UserError(
                    f"{name} {label}: duplicate control {control_id} "
                    f"(as {item.raw_id}; already on {other.label} as {other.raw_id})"
                )
            group.append(item)
    entries = {control_id: _combine(group) for control_id, group in groups.items()}
    order = {c.id: i for i, c in enumerate(catalogue.controls)}
    return dict(sorted(entries.items(), key=lambda kv: order[kv[0]]))


def _combine(group: list[_Parsed]) -> SoaEntry:
    """Several 2013 rows landing on one 2022 control: any applicable wins, texts joined."""
    if len(group) == 1:
        return group[0].entry
    entries = [p.entry for p in group]
    ages = [e.max_evidence_age for e in entries if e.max_evidence_age is not None]
    return SoaEntry(
        control_id=entries[0].control_id,
        applicable=any(e.applicable for e in entries),
        justification=_join(e.justification for e in entries),
        implementation_status=_join(e.implementation_status for e in entries),
        owner=_join(e.owner for e in entries),
        max_evidence_age=min(ages) if ages else None,
        source="; ".join(e.source for e in entries),
    )


def _join(texts: Iterable[str]) -> str:
    unique: list[str] = []
    for text in texts:
        if text and text not in unique:
            unique.append(text)
    return "; ".join(unique)
