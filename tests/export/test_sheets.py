"""The package's spreadsheets are safe to open and useful: text that looks like a formula is
neutralised (OWASP CSV injection) in CSV and XLSX, XLSX text is typed as text and times as
dates, the header is frozen with filters and fitted widths, each control names where its
evidence is, and CSV lines end with CRLF."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from collector.report import safe_text
from storage import EvidenceStore
from tests.export.conftest import DAY, S3, T0, export_period

HOSTILE_SOA = """\
controls:
  - control: A.8.3
    applicable: yes
    justification: "=HYPERLINK(\\"http://evil.example\\",\\"click\\")"
    owner: "@SUM(1+1)"
    implementation_status: "-2+3"
  - control: A.5.1
    applicable: yes
    justification: "+cmd|' /C calc'!A0"
    owner: "+44 20 7946 0000"
  - control: A.7.5
    applicable: no
    justification: "#N/A is not an error code here"
"""


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=1", "a=1"),
        ("", ""),
    ],
)
def test_safe_text(text: str, safe: str) -> None:
    assert safe_text(text) == safe


@pytest.fixture
def package(seeded: EvidenceStore, tmp_path: Path) -> zipfile.ZipFile:
    seeded.add_exception(
        check_id=S3,
        resource_pattern="=arn:*",
        target_pattern="*",
        reason="=cmd|' /C calc'!A0",
        approved_by="-cto",
        created_at=T0,
        expires_at=T0 + 30 * DAY,
        created_by="ciso",
    )
    soa_path = tmp_path / "soa.yaml"
    soa_path.write_text(HOSTILE_SOA)
    controls = ["A.8.3", "A.5.1", "A.7.5"]
    return export_period(seeded, tmp_path / "audit.zip", soa_path=soa_path, controls=controls)


def test_csv_is_safe_and_crlf(package: zipfile.ZipFile) -> None:
    for name in package.namelist():
        if not name.endswith(".csv"):
            continue
        raw = package.read(name)
        assert raw.count(b"\n") == raw.count(b"\r\n") > 0, name
        for row in csv.reader(io.StringIO(raw.decode(), newline="")):
            for field in row:
                assert not field.startswith(("=", "+", "-", "@", "\t", "\r")), (name, field)
    soa = {r["control"]: r for r in csv.DictReader(io.StringIO(package.read("soa.csv").decode()))}
    assert soa["A.8.3"]["justification"].startswith("'=HYPERLINK(")
    assert soa["A.8.3"]["owner"] == "'@SUM(1+1)"
    assert soa["A.8.3"]["implementation_status"] == "'-2+3"
    assert soa["A.5.1"]["owner"] == "'+44 20 7946 0000"
    assert soa["A.8.3"]["evidence"] == "controls/A.8.3/evidence.csv"
    assert soa["A.5.1"]["evidence"].startswith("manual/")  # the policy PDF in force
    assert soa["A.8.3"]["last_evidence_at"] == "2025-03-04T00:01:00+00:00"
    exceptions = list(csv.DictReader(io.StringIO(package.read("exceptions.csv").decode())))
    assert {e["reason"] for e in exceptions} >= {"'=cmd|' /C calc'!A0"}
    assert {e["approved_by"] for e in exceptions} >= {"'-cto"}


def test_xlsx_types_and_layout(package: zipfile.ZipFile) -> None:
    book = load_workbook(io.BytesIO(package.read("soa.xlsx")))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    assert header[0] == "control" and "last_evidence_at (UTC)" in header
    assert header[-1] == "evidence"
    rows = {r[0].value: {h: c for h, c in zip(header, r, strict=True)} for r in sheet.iter_rows(2)}
    for row in rows.values():
        for cell in row.values():
            assert cell.data_type != "f", cell.value  # no live formula anywhere
            if isinstance(cell.value, str):
                assert cell.data_type == "s"
    a83 = rows["A.8.3"]
    assert a83["justification"].value.startswith("'=HYPERLINK(")
    assert a83["owner"].value == "'@SUM(1+1)"
    assert rows["A.7.5"]["justification"].value == "#N/A is not an error code here"
    assert rows["A.7.5"]["justification"].data_type == "s"
    when = a83["last_evidence_at (UTC)"]
    assert when.is_date and when.value == datetime(2025, 3, 4, 0, 1)
    assert a83["open_findings"].data_type == "n" and a83["continuity_percent"].data_type == "n"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(header)).column_letter}4"
    widths = {
        sheet.cell(1, i + 1).value: sheet.column_dimensions[
            sheet.cell(1, i + 1).column_letter
        ].width
        for i in range(len(header))
    }
    assert widths["control"] < widths["title"] <= 62
    assert widths["justification"] > 20


def test_cli_csv_is_safe_and_crlf(annexa) -> None:
    """``--format csv`` on the command line follows the same rule as the package's CSVs."""
    code, _, err = annexa(
        "exception",
        "add",
        "--check",
        S3,
        "--resource",
        "*",
        "--reason",
        "=cmd|' /C calc'!A0",
        "--approved-by",
        "@ciso",
        "--expires",
        "2099-12-31",
    )
    assert code == 0, err
    code, out, _ = annexa("exception", "list", "--format", "csv")
    assert code == 0 and out.endswith("\r\n") and out.count("\n") == out.count("\r\n")
    [row] = list(csv.DictReader(io.StringIO(out, newline="")))
    assert row["reason"] == "'=cmd|' /C calc'!A0" and row["approved_by"] == "'@ciso"


def test_xlsx_measures_sheet_agrees_with_the_soa_continuity(package: zipfile.ZipFile) -> None:
    """The clause 9.1 measures ride in the package's workbook, from the same timelines."""
    book = load_workbook(io.BytesIO(package.read("soa.xlsx")))
    assert book.sheetnames == ["SoA", "Measures"]
    soa = {r["control"]: r for r in csv.DictReader(io.StringIO(package.read("soa.csv").decode()))}
    sheet = book["Measures"]
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["control", "state_at_end", "passing_pct"]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(2, values_only=True)}
    assert set(rows) == set(soa)
    for control, row in rows.items():
        expected = soa[control]["continuity_percent"]
        assert (row["passing_pct"] is None) == (expected == ""), control
        if expected:
            assert row["passing_pct"] == float(expected), control
    assert any((row["failing_h"] or 0) > 0 for row in rows.values())
