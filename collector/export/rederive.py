"""Re-deriving a package: run the export's own build again on what the package holds and
compare every file it writes with the package's.

The package's sealed records (``evidence/`` and the opening records in ``inputs/records/``)
are copied into a replica store (``storage.replica``); its build inputs (``inputs/build.json``:
period, generation time, annexa version, scope, checks, catalogue, mapping, SoA, exceptions,
manual evidence items, runs) and manual evidence files stand in for the rest of the store and
the configuration. ``export_package`` then writes a second package from them in a temporary
directory, and every file of it must equal the package's file of the same name, and the
package must hold no other file (checkpoints aside, which are checked by their signatures).

Compared byte for byte (by SHA-256): every file but ``soa.xlsx``, whose bytes carry the time it
was written: its sheets are compared by title and cell values. A difference is named with its
file and where: the row and column of a CSV or sheet, else the line and the text around it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from openpyxl import load_workbook
from sqlalchemy.exc import IntegrityError

from collector.app import Workspace
from collector.errors import UserError
from collector.export.build import export_package
from collector.export.evidence import record_of, reseal
from collector.export.inputs import (
    BUILD_INPUTS,
    FORMAT_VERSION,
    OPENING_RECORDS,
    BuildInputs,
    InvalidInputs,
    decode_inputs,
)
from collector.export.package import SUMS
from collector.export.ziplist import ChunkReader, Entry, entries, read_chunks
from collector.registry import Registry
from collector.settings import Settings
from collector.version import annexa_version
from storage import (
    EvidenceRecord,
    EvidenceStore,
    EvidenceSummary,
    ManualEvidence,
    RiskException,
    RunRecord,
    Transition,
)
from storage.replica import copy_records, copy_runs

__all__ = ["Mismatch", "rederive"]

DERIVED = "differs from what the sealed records give"
MAX_DOCUMENT = 64 * 1024 * 1024  # a record or the inputs read whole into memory
_SNIPPET = 40  # characters shown either side of a difference


class Mismatch(Exception):
    """A file is not what the package's records and inputs give (the message says where)."""


def rederive(
    directory: BinaryIO, data: BinaryIO, work: Path, sums: sqlite3.Connection, manifest: bytes
) -> int:
    """Rebuild the package whose zip ``directory``/``data`` read into ``work`` and compare it
    with the package's files, whose SHA-256 ``sums`` holds (``path``, ``sha256``); return how
    many files were compared. Mismatch names the first difference; UserError for a package
    format this annexa does not read."""
    _check_format(manifest)
    found = _Package(directory, data)
    inputs = found.inputs()
    rebuilt = work / "rebuilt.zip"
    with EvidenceStore.open(f"sqlite:///{work / 'replica.sqlite'}") as replica:
        found.replicate(replica, inputs)
        source = _Source(replica, inputs, found)
        try:
            export_package(
                _workspace(inputs),
                source,  # type: ignore[arg-type]  # the store's reads the build uses
                inputs.soa,
                start=inputs.start,
                end=inputs.end,
                out=rebuilt,
                now=inputs.generated_at,
                controls=list(inputs.controls),
                scope=inputs.scope,
                version=inputs.annexa_version,
            )
        except UserError as exc:
            raise Mismatch(f"the package's records and inputs do not build: {exc}") from None
    note = _version_note(inputs.annexa_version)
    with rebuilt.open("rb") as built, rebuilt.open("rb") as built_data:
        return _Comparison(found, sums, built, built_data, note).run()


def _check_format(manifest: bytes) -> None:
    try:
        stated = json.loads(manifest)
        version, written_by = stated.get("format_version"), stated.get("annexa_version")
    except (ValueError, AttributeError):
        raise Mismatch("manifest.json: not a JSON object") from None
    if not isinstance(version, int):
        raise Mismatch(f"manifest.json: format_version {version!r} is not a number")
    if version > FORMAT_VERSION:
        raise UserError(
            f"manifest.json: package format {version} was written by a newer annexa "
            f"({written_by}); this annexa {annexa_version()} reads formats up to {FORMAT_VERSION}"
        )
    if version < FORMAT_VERSION:
        raise Mismatch(
            f"manifest.json: package format {version} (annexa {written_by}) carries no build "
            "inputs, so its reports (soa.csv, soa.xlsx, index.html, OCSF, OSCAL, runs.csv) "
            "cannot be re-derived from its records; export the period again with annexa "
            f"{annexa_version()} (package format {FORMAT_VERSION})"
        )


def _version_note(written_by: str) -> str:
    ours = annexa_version()
    if written_by == ours:
        return ""
    return (
        f" (the package was written by annexa {written_by}, this is annexa {ours}: a report "
        "layout changed between them shows here too; verify with the same version)"
    )


def _workspace(inputs: BuildInputs) -> Workspace:
    """A workspace of the package's catalogue, mapping and checks (no configuration: the
    scope is given)."""
    registry = Registry(checks=inputs.checks, collectors={}, origins={})
    return Workspace(Settings.model_construct(), registry, inputs.catalogue, inputs.mapping)


class _Package:
    """The package's files the rebuild reads: build inputs, records, manual evidence files."""

    def __init__(self, directory: BinaryIO, data: BinaryIO) -> None:
        self.directory, self.data = directory, data
        self.manual: dict[str, Entry] = {}  # sha256 -> its file

    def read(self, entry: Entry) -> bytes:
        if entry.size > MAX_DOCUMENT:
            raise UserError(
                f"refusing {entry.name}: {entry.size} bytes is too large for one document"
            )
        return b"".join(read_chunks(self.data, entry))

    def entry(self, name: str) -> Entry | None:
        return next((e for e in entries(self.directory) if e.name == name), None)

    def inputs(self) -> BuildInputs:
        entry = self.entry(BUILD_INPUTS)
        if entry is None:
            raise Mismatch(f"{BUILD_INPUTS}: missing (the build inputs of the reports)")
        try:
            return decode_inputs(self.read(entry))
        except InvalidInputs as exc:
            raise Mismatch(str(exc)) from None

    def replicate(self, replica: EvidenceStore, inputs: BuildInputs) -> None:
        """Copy the runs and every sealed record into ``replica``; note the manual files."""
        copy_runs(replica, inputs.runs.values())
        try:
            copy_records(replica, self._records())
        except IntegrityError as exc:
            raise Mismatch(
                f"the package's records do not fit together (a record's run is not in "
                f"{BUILD_INPUTS}, or two records share an id or chain link): "
                f"{str(exc.orig).splitlines()[0]}"
            ) from None

    def _records(self) -> Iterator[EvidenceRecord]:
        for entry in entries(self.directory):
            name = entry.name
            if name.startswith("manual/") and "-" in name:
                self.manual[name.removeprefix("manual/").split("-", 1)[0]] = entry
            record = name.endswith(".json") and name.startswith(("evidence/", OPENING_RECORDS))
            if record:
                try:
                    document = json.loads(self.read(entry))
                    # the period's records were re-sealed before; the opening ones are here
                    sealed = not name.startswith(OPENING_RECORDS) or reseal(document) == (
                        document["observations_hash"],
                        document["content_hash"],
                    )
                    found = record_of(document)
                except (ValueError, KeyError, TypeError) as exc:
                    raise Mismatch(f"{name}: not a valid evidence record ({exc})") from None
                if not sealed:
                    raise Mismatch(f"{name}: record seal broken (its fields do not give its hash)")
                yield found

    def blob(self, sha256: str) -> bytes | None:
        entry = self.manual.get(sha256)
        if entry is None:
            return None
        content = self.read(entry)
        if hashlib.sha256(content).hexdigest() != sha256:
            raise Mismatch(f"{entry.name}: the content's SHA-256 is not the one in its name")
        return content


@dataclass
class _Source:
    """What the build reads from a store: history from the replica, the rest from the
    package's inputs and files."""

    replica: EvidenceStore
    inputs: BuildInputs
    package: _Package

    def latest_at(self, at: datetime | None = None, check_ids: Any = None) -> list[EvidenceSummary]:
        return self.replica.latest_at(at, check_ids)

    def newest_conclusive_id(self, check_id: str, target_key: str, at: datetime) -> int | None:
        return self.replica.newest_conclusive_id(check_id, target_key, at)

    def record_by_id(self, evidence_id: int) -> EvidenceRecord | None:
        return self.replica.record_by_id(evidence_id)

    def records_between(self, *args: Any, **kw: Any) -> Iterator[EvidenceRecord]:
        return self.replica.records_between(*args, **kw)

    def count_between(self, *args: Any, **kw: Any) -> int:
        return self.replica.count_between(*args, **kw)

    def timeline(self, *args: Any, **kw: Any) -> Iterator[EvidenceSummary]:
        return self.replica.timeline(*args, **kw)

    def exceptions(self) -> list[RiskException]:
        return list(self.inputs.exceptions)

    def manual_items(self, control_ids: Any = None) -> list[ManualEvidence]:
        wanted = None if control_ids is None else set(control_ids)
        return [m for m in self.inputs.manual if wanted is None or m.control_id in wanted]

    def transitions(self, **_: Any) -> list[Transition]:
        return list(self.inputs.transitions)

    def get_run(self, run_id: str) -> RunRecord | None:
        return self.inputs.runs.get(run_id)

    def blob(self, sha256: str) -> bytes | None:
        return self.package.blob(sha256)


class _Comparison:
    """Every rebuilt file against the package's; then no package file left over."""

    def __init__(
        self,
        package: _Package,
        sums: sqlite3.Connection,
        built: BinaryIO,
        built_data: BinaryIO,
        note: str,
    ) -> None:
        self.package, self.sums, self.note = package, sums, note
        self.built, self.built_data = built, built_data
        self.sums.executescript(
            "ALTER TABLE sums ADD COLUMN rebuilt INT DEFAULT 0;"
            "CREATE INDEX sums_rebuilt ON sums (rebuilt, path);"
        )

    def run(self) -> int:
        compared = 0
        self.sums.execute("BEGIN")
        for entry in entries(self.built):
            if entry.name == SUMS:
                continue
            row = self.sums.execute(
                "SELECT sha256 FROM sums WHERE path = ?", (entry.name,)
            ).fetchone()
            if row is None:
                raise Mismatch(f"{entry.name}: missing from the package (the records give it)")
            if entry.name.endswith(".xlsx"):
                self._sheets(entry)
            else:
                digest = hashlib.sha256()
                for chunk in read_chunks(self.built_data, entry):
                    digest.update(chunk)
                if digest.hexdigest() != row[0]:
                    self._explain(entry)
            self.sums.execute("UPDATE sums SET rebuilt = 1 WHERE path = ?", (entry.name,))
            compared += 1
        self.sums.execute("COMMIT")
        extra = self.sums.execute(
            "SELECT path FROM sums WHERE rebuilt = 0 "
            "AND NOT (path LIKE 'checkpoints/%' AND path LIKE '%.json') ORDER BY path"
        ).fetchone()
        if extra:
            raise Mismatch(f"{extra[0]}: not produced by the package's records and inputs")
        return compared

    def _theirs(self, name: str) -> Iterator[bytes]:
        entry = self.package.entry(name)
        assert entry is not None  # listed in SHA256SUMS, which matched the package's files
        return read_chunks(self.package.data, entry)

    def _explain(self, built: Entry) -> None:
        ours = read_chunks(self.built_data, built)
        if built.name.endswith(".csv"):
            where = _csv_difference(self._theirs(built.name), ours)
        else:
            where = _text_difference(self._theirs(built.name), ours)
        raise Mismatch(f"{built.name} {DERIVED}: {where}{self.note}")

    def _sheets(self, built: Entry) -> None:
        theirs = _workbook(b"".join(self._theirs(built.name)), built.name)
        ours = _workbook(b"".join(read_chunks(self.built_data, built)), built.name)
        if list(theirs) != list(ours):
            raise Mismatch(
                f"{built.name} {DERIVED}: sheets {list(theirs)}, the records give {list(ours)}"
                + self.note
            )
        for title, rows in ours.items():
            where = _rows_difference(iter(theirs[title]), iter(rows))
            if where:
                raise Mismatch(f"{built.name} {DERIVED}: sheet {title}: {where}{self.note}")


def _workbook(data: bytes, name: str) -> dict[str, list[tuple[Any, ...]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise Mismatch(f"{name}: not a readable workbook ({exc})") from None
    try:
        return {s.title: [tuple(r) for r in s.iter_rows(values_only=True)] for s in book}
    finally:
        book.close()


def _csv_rows(chunks: Iterator[bytes]) -> Iterator[list[str]]:
    text = io.TextIOWrapper(io.BufferedReader(ChunkReader(chunks)), "utf-8", "replace", "")
    return csv.reader(text)


def _csv_difference(theirs: Iterator[bytes], ours: Iterator[bytes]) -> str:
    return _rows_difference(_csv_rows(theirs), _csv_rows(ours)) or "the bytes differ"


def _rows_difference(theirs: Iterator[Any], ours: Iterator[Any]) -> str | None:
    """Where two tables (header row first) first differ: ``row A.8.5: automated_status is
    'passing', the records give 'failing'``; None when they hold the same values."""
    header = next(ours, None) or ()
    their_header = next(theirs, None) or ()
    if tuple(their_header) != tuple(header):
        return f"header is {list(their_header)}, the records give {list(header)}"
    for number, (a, b) in enumerate(_pairs(theirs, ours), 2):
        if a is None or b is None:
            row = b if a is None else a
            what = "missing" if a is None else "extra (the records give no such row)"
            return f"row {row[0] if row else number} is {what}"
        if tuple(a) != tuple(b):
            key = b[0] if b else number
            for index, (x, y) in enumerate(zip(a, b, strict=False)):
                if x != y:
                    column = header[index] if index < len(header) else f"column {index + 1}"
                    return f"row {key}: {column} is {x!r}, the records give {y!r}"
            return f"row {key}: {len(a)} cells, the records give {len(b)}"
    return None


def _pairs(a: Iterator[Any], b: Iterator[Any]) -> Iterator[tuple[Any, Any]]:
    while True:
        x, y = next(a, None), next(b, None)
        if x is None and y is None:
            return
        yield x, y


def _text_difference(theirs: Iterator[bytes], ours: Iterator[bytes]) -> str:
    """``line 12: '...their text...', the records give '...'`` at the first differing byte."""
    a, b = io.BufferedReader(ChunkReader(theirs)), io.BufferedReader(ChunkReader(ours))
    line, tail_a, tail_b = 1, b"", b""
    while True:
        x, y = a.read(1 << 16), b.read(1 << 16)
        if x == y:
            if not x:
                return "the bytes differ"
            line += x.count(b"\n")
            tail_a = tail_b = x[-_SNIPPET:]
            continue
        at = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), None)
        at = min(len(x), len(y)) if at is None else at
        line += x.count(b"\n", 0, at)
        return f"line {line}: {_around(tail_a + x, len(tail_a) + at)}, the records give " + (
            _around(tail_b + y, len(tail_b) + at)
        )


def _around(data: bytes, at: int) -> str:
    start = max(at - _SNIPPET, data.rfind(b"\n", 0, at) + 1)
    end = data.find(b"\n", at)
    end = min(at + _SNIPPET, len(data) if end < 0 else end)
    return repr(data[start:end].decode("utf-8", "replace"))
