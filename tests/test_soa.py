"""Statement of Applicability: YAML, CSV and XLSX, 2013 translation, one-line errors."""

from __future__ import annotations

import zipfile
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import pytest
from openpyxl import Workbook

from collector.catalogue import Catalogue, load_catalogue
from collector.errors import UserError
from collector.soa import Soa, load_soa

DATA = Path(__file__).parent / "data"
HEADER = ["Control", "Applicable", "Justification", "Implementation Status", "Owner",
          "Max-Evidence-Age"]  # fmt: skip


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def _xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _csv(tmp_path: Path, text: str, name: str = "soa.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _error(path: Path, catalogue: Catalogue) -> str:
    with pytest.raises(UserError) as caught:
        load_soa(path, catalogue)
    message = str(caught.value)
    assert "\n" not in message
    return message


def _check_small(soa: Soa, name: str, first: str) -> None:
    """Shared expectations for the soa_small.* fixtures (same content in every format)."""
    assert list(soa.entries) == ["A.5.1", "A.5.36", "A.7.5", "A.8.8", "A.8.15", "A.8.24"]
    policy = soa.entry("A.5.1")
    assert policy is not None and policy.applicable
    assert policy.justification == "policy set approved by the board"
    assert policy.implementation_status == "implemented" and policy.owner == "CISO"
    assert policy.max_evidence_age is None
    assert policy.source == f"{name} {first}"
    crypto = soa.entry("A.8.24")
    assert crypto.applicable and crypto.justification == ""
    assert crypto.max_evidence_age == timedelta(days=7)
    excluded = soa.entry("A.7.5")
    assert not excluded.applicable and "cloud provider" in excluded.justification
    # A.18.2.3 (2013) applies to both of its 2022 successors.
    for control_id in ("A.5.36", "A.8.8"):
        entry = soa.entry(control_id)
        assert entry.applicable and entry.justification == "technical review"
        assert entry.source.endswith("(2013 id A.18.2.3)")
    # A.12.4.1 and A.12.4.3 (2013) merge into A.8.15: texts joined, smallest age wins.
    logging = soa.entry("A.8.15")
    assert logging.applicable
    assert logging.justification == "logging; admin logs"
    assert logging.max_evidence_age == timedelta(days=1)
    assert "(2013 id A.12.4.1)" in logging.source and "(2013 id A.12.4.3)" in logging.source
    assert soa.entry("A.5.2") is None


def test_csv(catalogue: Catalogue) -> None:
    soa = load_soa(DATA / "soa_small.csv", catalogue)
    _check_small(soa, "soa_small.csv", "row 2")
    assert soa.entry("A.8.15").owner == "SRE"
    assert soa.entry("A.8.15").implementation_status == "implemented; partial"


def test_yaml(catalogue: Catalogue) -> None:
    soa = load_soa(DATA / "soa_small.yaml", catalogue)
    _check_small(soa, "soa_small.yaml", "entry 1")
    assert soa.path == DATA / "soa_small.yaml"


def test_xlsx(catalogue: Catalogue, tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path / "soa.xlsx",
        [
            HEADER,
            ["A.5.1", "yes", "policy set approved by the board", "implemented", "CISO", None],
            ["A.8.24", "Y", None, "implemented", "Head of Platform", "7d"],
            [None, None, None, None, None, None],  # blank rows are skipped
            ["A.7.5", False, "physical controls are the cloud provider's data centres"],
            ["A.12.4.1", True, "logging", "implemented", "SRE", "P2D"],
            ["A.12.4.3", 1, "admin logs", "partial", None, "1d"],
            ["A.18.2.3", "yes", "technical review", "implemented", "Auditor"],
        ],
    )
    soa = load_soa(path, catalogue)
    _check_small(soa, "soa.xlsx", "row 2")
    assert soa.entry("A.8.15").source.startswith("soa.xlsx row 6 (2013 id A.12.4.1)")


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_csv_other_delimiters(catalogue: Catalogue, tmp_path: Path, delimiter: str) -> None:
    text = "\ufeffControl;Applicable;Justification\nA.7.5;no;cloud, provider\n"
    path = _csv(tmp_path, text.replace(";", delimiter))
    entry = load_soa(path, catalogue).entry("A.7.5")
    assert not entry.applicable and entry.justification == "cloud, provider"


def test_top_level_list_and_lower_case_id(catalogue: Catalogue) -> None:
    soa = load_soa(DATA / "soa_list.yaml", catalogue)
    assert soa.entry("A.5.1").applicable
    assert not soa.entry("A.5.2").applicable
    assert len(soa.missing(catalogue)) == 91


def test_missing_lists_unmentioned_controls(catalogue: Catalogue) -> None:
    soa = load_soa(DATA / "soa_small.csv", catalogue)
    missing = soa.missing(catalogue)
    assert len(missing) == 93 - 6
    assert missing[0] == "A.5.2" and "A.8.15" not in missing


def test_example_soa_covers_the_catalogue(catalogue: Catalogue) -> None:
    path = Path(str(files("mappings.annex_a") / "soa.example.yaml"))
    soa = load_soa(path, catalogue)
    assert soa.missing(catalogue) == []
    excluded = {cid for cid, e in soa.entries.items() if not e.applicable}
    assert {"A.7.5", "A.7.8", "A.7.11", "A.7.12", "A.7.13", "A.8.30"} <= excluded
    assert all(soa.entries[cid].justification for cid in excluded)
    assert any(e.max_evidence_age == timedelta(days=7) for e in soa.entries.values())
    assert all(e.owner for e in soa.entries.values() if e.applicable)


@pytest.mark.parametrize("value", ["yes", "YES", "y", "N", "no", "True", "false", "1", "0"])
def test_applicable_values(catalogue: Catalogue, tmp_path: Path, value: str) -> None:
    path = _csv(tmp_path, f"control,applicable,justification\nA.5.1,{value},why\n")
    expected = value.lower() in {"yes", "y", "true", "1"}
    assert load_soa(path, catalogue).entry("A.5.1").applicable is expected


# -- errors: one line naming the file and the row ------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "control,applicable\nA.5.1,yes\nA.5.99,yes\n",
            "soa.csv row 3: unknown control id 'A.5.99'",
        ),
        (
            "control,applicable\nA.5.1,yes\nA.5.1,no\n",
            "soa.csv row 3: duplicate control A.5.1 (already on row 2)",
        ),
        (
            "control,applicable\nA.5.1,maybe\n",
            "soa.csv row 2: bad 'applicable' value 'maybe' (use yes/no, true/false, y/n, 1/0)",
        ),
        ("control,applicable\nA.5.1,\n", "soa.csv row 2: 'applicable' is empty (use yes or no)"),
        ("control,applicable\n,yes\n", "soa.csv row 2: empty 'control'"),
        (
            "control,applicable,max_evidence_age\nA.5.1,yes,7d\nA.5.2,yes,soon\n",
            "soa.csv row 3: bad max_evidence_age: invalid duration 'soon'",
        ),
        (
            "control,applicable,max_evidence_age\nA.5.1,yes,0d\n",
            "soa.csv row 2: bad max_evidence_age: duration must be positive",
        ),
        ("control,justification\nA.5.1,x\n", "soa.csv row 1: missing required column 'applicable'"),
        ("applicable\nyes\n", "soa.csv row 1: missing required column 'control'"),
        ("", "soa.csv: empty file"),
        ("control,applicable\n", "soa.csv: empty file (a header but no rows)"),
    ],
)
def test_csv_errors(catalogue: Catalogue, tmp_path: Path, text: str, expected: str) -> None:
    assert _error(_csv(tmp_path, text), catalogue).startswith(expected)


def test_exclusion_without_justification(catalogue: Catalogue) -> None:
    message = _error(DATA / "soa_excluded_no_reason.csv", catalogue)
    assert message == (
        "soa_excluded_no_reason.csv row 4: control A.7.5 is excluded without a justification"
    )


def test_2022_and_2013_on_same_control(catalogue: Catalogue) -> None:
    message = _error(DATA / "soa_duplicate_2013.csv", catalogue)
    assert message == (
        "soa_duplicate_2013.csv row 4: duplicate control A.8.15 "
        "(as A.12.4.1; already on row 3 as A.8.15)"
    )


def test_2013_then_2022_on_same_control(catalogue: Catalogue, tmp_path: Path) -> None:
    path = _csv(tmp_path, "control,applicable\nA.18.2.3,yes\nA.8.8,yes\n")
    assert _error(path, catalogue) == (
        "soa.csv row 3: duplicate control A.8.8 (as A.8.8; already on row 2 as A.18.2.3)"
    )


def test_same_2013_id_twice(catalogue: Catalogue, tmp_path: Path) -> None:
    path = _csv(tmp_path, "control,applicable\nA.12.4.1,yes\nA.12.4.1,no,x\n")
    assert _error(path, catalogue) == "soa.csv row 3: duplicate control A.12.4.1 (already on row 2)"


def test_mixed_2013_rows_any_applicable_wins(catalogue: Catalogue, tmp_path: Path) -> None:
    text = "control,applicable,justification\nA.12.4.1,no,not logged\nA.12.4.2,yes,logged\n"
    entry = load_soa(_csv(tmp_path, text), catalogue).entry("A.8.15")
    assert entry.applicable and entry.justification == "not logged; logged"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "soa.yaml: empty file"),
        ("controls: []\n", "soa.yaml: empty file (no controls listed)"),
        ("other: 1\n", "soa.yaml: expected a 'controls:' list"),
        ("controls: {A.5.1: yes}\n", "soa.yaml: 'controls' must be a list, got dict"),
        ("controls: [A.5.1]\n", "soa.yaml entry 1: expected a mapping, got str"),
        (
            "controls:\n  - {control: A.5.1, applicable: yes}\n  - {control: A.5.2}\n",
            "soa.yaml entry 2: missing required key 'applicable'",
        ),
        (
            "controls:\n  - {control: A.5.1, applicable: yes}\n"
            "  - {control: A.5.2, applicable: yes}\n  - {control: A.9.9, applicable: yes}\n",
            "soa.yaml entry 3: unknown control id 'A.9.9'",
        ),
        (
            "controls:\n  - {control: A.7.5, applicable: no}\n",
            "soa.yaml entry 1: control A.7.5 is excluded without a justification",
        ),
        (
            "controls:\n  - {control: A.5.1, applicable: yes, max_evidence_age: true}\n",
            "soa.yaml entry 1: bad max_evidence_age",
        ),
        ("controls: [\n", "soa.yaml line 2: invalid YAML: "),
    ],
)
def test_yaml_errors(catalogue: Catalogue, tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "soa.yaml"
    path.write_text(text)
    assert _error(path, catalogue).startswith(expected)


def test_xlsx_errors(catalogue: Catalogue, tmp_path: Path) -> None:
    bad_row = _xlsx(tmp_path / "soa.xlsx", [["control", "applicable"], ["A.5.1", "yes"],
                                            ["A.5.1", "yes"]])  # fmt: skip
    assert _error(bad_row, catalogue).startswith("soa.xlsx row 3: duplicate control A.5.1")
    no_column = _xlsx(tmp_path / "cols.xlsx", [["control"], ["A.5.1"]])
    assert _error(no_column, catalogue) == "cols.xlsx row 1: missing required column 'applicable'"
    empty = _xlsx(tmp_path / "empty.xlsx", [])
    assert _error(empty, catalogue) == "empty.xlsx: empty file"
    fake = tmp_path / "fake.xlsx"
    fake.write_text("control,applicable\nA.5.1,yes\n")
    assert _error(fake, catalogue).startswith("fake.xlsx: not a readable .xlsx workbook")


def test_unreadable_files(catalogue: Catalogue, tmp_path: Path) -> None:
    for name in ("gone.csv", "gone.yaml", "gone.xlsx"):
        assert _error(tmp_path / name, catalogue).startswith(f"{name}: cannot read file")
    assert _error(tmp_path / "soa.json", catalogue).startswith(
        "soa.json: unsupported SoA format '.json'"
    )


def test_permission_denied(
    catalogue: Catalogue, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    csv_path = _csv(tmp_path, "control,applicable\nA.5.1,yes\n")
    yaml_path = _csv(tmp_path, "controls: []\n", "soa.yaml")

    def denied(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    # chmod 000 does not stop root (CI containers), so refuse at the open call instead.
    monkeypatch.setattr(Path, "open", denied)
    monkeypatch.setattr(Path, "read_text", denied)
    assert _error(csv_path, catalogue) == "soa.csv: cannot read file: Permission denied"
    assert _error(yaml_path, catalogue) == "soa.yaml: cannot read file: Permission denied"


def test_not_utf8_csv(catalogue: Catalogue, tmp_path: Path) -> None:
    path = tmp_path / "soa.csv"
    path.write_bytes("control,applicable,owner\nA.5.1,yes,J\xfcrgen\n".encode("latin-1"))
    assert _error(path, catalogue).startswith("soa.csv: not a UTF-8 text file")


def test_smallest_max_age_wins_when_it_comes_first(tmp_path: Path, catalogue: Catalogue) -> None:
    """Three 2013 rows landing on A.8.15; the smallest age is on the first row, not the last."""
    path = _csv(
        tmp_path,
        "control,applicable,max_evidence_age\nA.12.4.1,yes,1d\nA.12.4.3,yes,P3D\nA.12.4.2,yes,2d\n",
    )
    logging = load_soa(path, catalogue).entry("A.8.15")
    assert logging is not None and logging.max_evidence_age == timedelta(days=1)


def test_every_format_named_by_its_suffix(catalogue: Catalogue, tmp_path: Path) -> None:
    """``.yml`` in any case, numbers where yes/no or text is expected (spreadsheet habits), a
    duration cell; a file without a suffix is named as such."""
    text = "controls:\n  - {control: A.5.1, applicable: 1.0, owner: 2.0}\n"
    for name in ("soa.yml", "SOA.YML"):
        entry = load_soa(_csv(tmp_path, text, name), catalogue).entry("A.5.1")
        assert entry.applicable and entry.owner == "2" and entry.source == f"{name} entry 1"
    cell = _xlsx(tmp_path / "age.xlsx", [["control", "applicable", "max_evidence_age"],
                                         ["A.5.1", "yes", timedelta(days=7)]])  # fmt: skip
    assert load_soa(cell, catalogue).entry("A.5.1").max_evidence_age == timedelta(days=7)
    bare = _csv(tmp_path, "control,applicable\n", "soa")
    assert _error(bare, catalogue) == (
        "soa: unsupported SoA format '(none)'; use .yaml, .yml, .csv or .xlsx"
    )
    empty = _csv(tmp_path, 'controls:\n  - {control: A.5.1, applicable: ""}\n', "empty.yaml")
    assert _error(empty, catalogue) == "empty.yaml entry 1: missing required key 'applicable'"


def test_csv_cells_as_a_spreadsheet_writes_them(catalogue: Catalogue, tmp_path: Path) -> None:
    """A line break inside a quoted cell stays in it; a ';' in a comma header is text; a
    repeated column: the first one counts; an unterminated quote names its line."""
    path = tmp_path / "soa.csv"
    path.write_bytes(
        b"control,applicable,owner,owner,justification,note (why; if any)\r\n"
        b'A.7.5,no,first,second,"line one\r\nline two",x\r\n'
    )
    entry = load_soa(path, catalogue).entry("A.7.5")
    assert entry.owner == "first"
    assert entry.justification == "line one\r\nline two"
    broken = _csv(tmp_path, 'control,applicable,justification\nA.5.1,no,"unterminated\n')
    assert _error(broken, catalogue) == "soa.csv line 2: invalid CSV: unexpected end of data"


def test_broken_workbooks_name_what_failed(catalogue: Catalogue, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"not a zip")
    assert _error(garbage, catalogue) == "garbage.xlsx: not a readable .xlsx workbook (BadZipFile)"
    good = _xlsx(tmp_path / "good.xlsx", [["control", "applicable"], ["A.5.1", "yes"]])
    broken = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # the sheet's XML is read lazily, row by row
            target.writestr(info, data)
    assert _error(broken, catalogue) == "broken.xlsx: not a readable .xlsx workbook (ParseError)"


def test_2013_rows_merged_into_one_entry_say_where_they_came_from(catalogue, tmp_path) -> None:
    text = "control,applicable,justification\nA.12.4.1,no,not logged\nA.12.4.2,yes,logged\n"
    entry = load_soa(_csv(tmp_path, text), catalogue).entry("A.8.15")
    assert entry.control_id == "A.8.15"
    assert entry.source == "soa.csv row 2 (2013 id A.12.4.1); soa.csv row 3 (2013 id A.12.4.2)"
