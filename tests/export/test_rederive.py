"""``verify --package`` re-derives every report from the package's sealed records and build
inputs: an unsigned package whose report was edited together with SHA256SUMS fails, naming
the file and where it differs; an untouched one verifies; a package of the older format says
why it cannot be re-derived."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from openpyxl import load_workbook

from collector.errors import UserError
from collector.export import PackageProblem, verify_package
from storage import EvidenceStore, NewEvidence
from tests.export.conftest import COLLECTOR, DAY, S3, T0, TRAIL, export_period, record
from tests.export.test_package_tamper import forge

DERIVED = "differs from what the sealed records give"


@pytest.fixture
def package(seeded: EvidenceStore, tmp_path: Path) -> Path:
    out = tmp_path / "audit.zip"
    export_period(seeded, out, controls=["A.5.1", "A.8.3", "A.8.15"])
    return out


def read(package: Path, name: str) -> bytes:
    return zipfile.ZipFile(package).read(name)


def edit_csv(package: Path, name: str, key: str, column: str, value: str) -> bytes:
    """``name`` with one cell of the row whose first cell is ``key`` set to ``value``."""
    rows = list(csv.reader(io.StringIO(read(package, name).decode())))
    index = rows[0].index(column)
    for row in rows:
        if row[0] == key:
            row[index] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


def edit_sheet(package: Path) -> bytes:
    book = load_workbook(io.BytesIO(read(package, "soa.xlsx")))
    sheet = book["SoA"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "A.8.3":
            row[header.index("automated_status")].value = "passing, honestly"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replaced(name: str, old: bytes, new: bytes) -> Callable[[Path], bytes]:
    def change(package: Path) -> bytes:
        data = read(package, name)
        assert old in data, f"{old!r} not in {name}"
        return data.replace(old, new, 1)

    return change


def problem(package: Path) -> str:
    with pytest.raises(PackageProblem) as caught:
        verify_package(package)
    return str(caught.value)


def test_untouched_package_rederives(package: Path) -> None:
    report = verify_package(package)
    names = zipfile.ZipFile(package).namelist()
    assert report.rederived == len(names) - 1  # every file but SHA256SUMS
    assert "inputs/build.json" in names
    assert [n for n in names if n.startswith("inputs/records/")]  # the record before the period


@pytest.mark.parametrize(
    ("name", "change", "where"),
    [
        (
            "soa.csv",
            lambda p: edit_csv(p, "soa.csv", "A.8.3", "automated_status", "passing, honestly"),
            "row A.8.3: automated_status is 'passing, honestly', the records give",
        ),
        ("soa.xlsx", edit_sheet, "sheet SoA: row A.8.3: automated_status is 'passing, honestly'"),
        ("index.html", replaced("index.html", b"A.8.3", b"A.8.4"), "line "),
        (
            "findings.ocsf.jsonl",
            replaced("findings.ocsf.jsonl", b'"status":"Suppressed"', b'"status":"Resolved"'),
            '"status":"Resolved","status_id":3',
        ),
        (
            "assessment-results.oscal.json",
            replaced("assessment-results.oscal.json", b'"not-satisfied"', b'"satisfied"'),
            "line 1: ",
        ),
        (
            "assessment-plan.oscal.json",
            replaced("assessment-plan.oscal.json", b"A.8.3", b"A.8.4"),
            "line ",
        ),
        (
            "runs.csv",
            lambda p: edit_csv(
                p,
                "runs.csv",
                next(csv.DictReader(io.StringIO(read(p, "runs.csv").decode())))["run"],
                "collected_by",
                "aws:111111111111=someone else",
            ),
            f"collected_by is 'aws:111111111111=someone else', the records give "
            f"'aws:111111111111={COLLECTOR}; github:acme=app 42'",
        ),
        ("manifest.json", replaced("manifest.json", b'"records": 8', b'"records": 9'), "line "),
        ("exceptions.csv", replaced("exceptions.csv", b"by design", b"by accident"), "row 1: "),
        (
            "controls/A.8.3/evidence.csv",
            replaced("controls/A.8.3/evidence.csv", b"pass", b"fail"),
            "status is 'fail', the records give 'pass'",
        ),
    ],
)
def test_edited_report_with_sums_fixed_is_named(
    package: Path, name: str, change: Callable[[Path], bytes], where: str
) -> None:
    verify_package(package)
    forge(package, {name: change(package)})
    message = problem(package)
    assert message.startswith(f"{name} {DERIVED}: "), message
    assert where in message, message


def test_missing_or_added_report(package: Path) -> None:
    forge(package, {"controls/A.8.3/evidence.csv": None})
    assert problem(package) == (
        "controls/A.8.3/evidence.csv: missing from the package (the records give it)"
    )


def test_added_file(package: Path) -> None:
    forge(package, {"controls/A.8.3/failing.csv": b"check,target,resource\r\n"})
    assert problem(package) == (
        "controls/A.8.3/failing.csv: not produced by the package's records and inputs"
    )


def test_dropped_opening_record(package: Path) -> None:
    [opening] = [n for n in zipfile.ZipFile(package).namelist() if n.startswith("inputs/records/")]
    forge(package, {opening: None})
    message = problem(package)
    # the status at the start of the period came from it: the first report that differs
    assert DERIVED in message or "missing from the package" in message


def test_edited_opening_record(package: Path) -> None:
    [opening] = [n for n in zipfile.ZipFile(package).namelist() if n.startswith("inputs/records/")]
    document = json.loads(read(package, opening))
    document["status"] = "pass" if document["status"] != "pass" else "fail"
    forge(package, {opening: json.dumps(document).encode()})
    assert problem(package) == f"{opening}: record seal broken (its fields do not give its hash)"


def test_file_beside_the_checkpoints(package: Path) -> None:
    forge(package, {"checkpoints/notes.txt": b"trust me"})
    assert problem(package) == (
        "checkpoints/notes.txt: not produced by the package's records and inputs"
    )


def test_edited_inputs_change_the_reports(package: Path) -> None:
    """An exception made up in the inputs alone: the reports built from them differ."""
    inputs = json.loads(read(package, "inputs/build.json"))
    inputs["exceptions"][0]["reason"] = "made up later"
    forge(package, {"inputs/build.json": json.dumps(inputs).encode()})
    message = problem(package)
    assert message.startswith("exceptions.csv differs") or message.startswith("index.html")


def test_run_missing_from_the_inputs(package: Path) -> None:
    inputs = json.loads(read(package, "inputs/build.json"))
    inputs["runs"] = inputs["runs"][1:]
    forge(package, {"inputs/build.json": json.dumps(inputs).encode()})
    assert problem(package).startswith(
        "the package's records do not fit together (a record's run is not in inputs/build.json"
    )


def test_swapped_manual_file(package: Path) -> None:
    [name] = [n for n in zipfile.ZipFile(package).namelist() if n.startswith("manual/")]
    forge(package, {name: b"%PDF- another policy"})
    assert problem(package) == f"{name}: the content's SHA-256 is not the one in its name"


def test_older_format_is_named(package: Path) -> None:
    manifest = json.loads(read(package, "manifest.json"))
    manifest["format_version"] = 1
    names = [n for n in zipfile.ZipFile(package).namelist() if n.startswith("inputs/")]
    forge(package, {"manifest.json": json.dumps(manifest).encode(), **dict.fromkeys(names)})
    message = problem(package)
    assert message.startswith("manifest.json: package format 1 (annexa ")
    assert "carries no build inputs" in message and "export the period again" in message


def test_newer_format_is_bad_input(package: Path) -> None:
    manifest = json.loads(read(package, "manifest.json"))
    manifest["format_version"] = 99
    forge(package, {"manifest.json": json.dumps(manifest).encode()})
    with pytest.raises(UserError, match="package format 99 was written by a newer annexa"):
        verify_package(package)


def test_cli_names_the_edited_report(annexa_db, seeded, tmp_path: Path) -> None:
    out = tmp_path / "audit.zip"
    args = ("--from", "2025-03-01", "--to", "2025-03-04", "--example-soa", "--out", str(out))
    assert annexa_db("export", *args)[0] == 0
    code, stdout, _ = annexa_db("verify", "--package", str(out))
    assert code == 0 and "files re-derived from the records and inputs, all equal" in stdout
    forge(out, {"soa.csv": edit_csv(out, "soa.csv", "A.8.3", "automated_status", "passing!")})
    code, _, stderr = annexa_db("verify", "--package", str(out))
    assert code == 1
    assert stderr.startswith(f"annexa: package verify failed: soa.csv {DERIVED}: row A.8.3")


def test_opening_state_comes_with_the_package(store: EvidenceStore, tmp_path: Path) -> None:
    """Status and staleness start from records outside the period: the newest before it (an
    error) and the last conclusive one (older still), and one collected exactly at its end.
    The package carries them, and re-deriving gives the same reports."""
    run = store.start_run(started_at=T0 - 9 * DAY)
    conclusive = store.append(record(run, S3, T0 - 9 * DAY, fail=True))
    store.append(record(run, S3, T0 - 8 * DAY, region="us-east-1"))
    newest = store.append(errored(record(run, S3, T0 - DAY)))
    store.append(errored(record(run, S3, T0 + DAY)))  # the period holds errors only
    at_end = store.append(record(run, TRAIL, T0 + 4 * DAY))
    out = tmp_path / "audit.zip"
    export_period(store, out, controls=["A.8.3", "A.8.15"])
    names = zipfile.ZipFile(out).namelist()
    opening = {int(n.split("/")[-1][:-5]) for n in names if n.startswith("inputs/records/")}
    assert {conclusive.id, newest.id, at_end.id} <= opening
    assert verify_package(out).rederived == len(names) - 1
    [row] = [
        r
        for r in csv.DictReader(io.StringIO(read(out, "soa.csv").decode()))
        if r["control"] == "A.8.3"
    ]
    assert row["automated_status"] == "error"


def errored(evidence: NewEvidence) -> NewEvidence:
    return replace(evidence, status="error", error="AccessDenied", findings=[])


def test_recorded_exclusion_travels_with_the_inputs(seeded: EvidenceStore, tmp_path: Path) -> None:
    """The daemon recorded A.8.3 excluded for two days: continuity counts that time apart,
    the package carries the transitions, and a transition edited in the inputs alone changes
    what the reports must say."""
    seeded.record_transition("A.8.3", "passing", "not_applicable", at=T0 + DAY)
    seeded.record_transition("A.8.3", "not_applicable", "passing", at=T0 + 3 * DAY)
    out = tmp_path / "audit.zip"
    export_period(seeded, out, controls=["A.8.3", "A.8.15"])
    inputs = json.loads(read(out, "inputs/build.json"))
    assert [t["to_state"] for t in inputs["transitions"]] == ["not_applicable", "passing"]
    verify_package(out)
    inputs["transitions"] = inputs["transitions"][:1]  # never applicable again
    forge(out, {"inputs/build.json": json.dumps(inputs).encode()})
    assert DERIVED in problem(out)
