"""Every bad input reported in issue 12, each its own test: one line on stderr, exit 2, and the
store as it was."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from collector.app import example_soa_path
from tests.inputs.conftest import EXCEPTION_ADD, assert_refused, store_dump

SOA = str(example_soa_path())
EXCEPTION = EXCEPTION_ADD


# -- out-of-range dates and durations --------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("status", "--soa", SOA, "--at", "0001-01-01T00:00:00+01:00"), "--at: "),
        (
            (
                "export",
                "--soa",
                SOA,
                "--from",
                "2020-01-01",
                "--to",
                "9999-12-31",
                "--out",
                "x.zip",
            ),
            "--to: '9999-12-31' is out of range",
        ),
        ((*EXCEPTION, "--expires", "9999-12-31"), "--expires: '9999-12-31' is out of range"),
        (("prune", "--yes", "--before", "9999-12-31T23:59:59.999999-05:00"), "--before: "),
        (
            (
                "evidence",
                "show",
                "--check",
                "aws.iam.root_mfa_enabled",
                "--limit",
                "99999999999999999999",
            ),
            None,
        ),
    ],
    ids=["status-at", "export-to", "exception-expires", "prune-before", "evidence-limit"],
)
def test_out_of_range_instants_and_numbers(annexa, seeded, args, needle):
    before = store_dump(seeded)
    code, _, err = annexa(*args)
    assert code == 2 and "Traceback" not in err, err
    if needle is None:  # a usage error: typer's own short message
        assert "--limit" in err and "1000000" in err
    else:
        assert_refused((code, "", err), needle)
    assert store_dump(seeded) == before


@pytest.mark.parametrize("exception_id", ["99999999999999999999", "0", "-1"])
def test_exception_revoke_id_out_of_range(annexa, seeded, exception_id):
    before = store_dump(seeded)
    code, _, err = annexa("exception", "revoke", "--reason", "r", "--", exception_id)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert store_dump(seeded) == before


def test_evidence_valid_for_beyond_100_years(annexa, seeded, tmp_path):
    before = store_dump(seeded)
    file = tmp_path / "f.txt"
    file.write_text("x")
    result = annexa(
        "evidence", "add", "--control", "A.5.1", "--file", str(file), "--valid-for", "3000000d"
    )
    assert_refused(result, "--valid-for", "longer than 100 years")
    assert store_dump(seeded) == before


def test_soa_max_evidence_age_beyond_100_years(annexa, tmp_path):
    soa = tmp_path / "soa.yaml"
    soa.write_text(
        "controls:\n  - {control: A.5.1, applicable: yes, max_evidence_age: 9999999999d}\n"
    )
    assert_refused(annexa("status", "--soa", str(soa)), "soa.yaml entry 1", "max_evidence_age")


def test_schedule_interval_beyond_100_years_in_file(annexa, tmp_path):
    config = tmp_path / "annexa.yaml"
    config.write_text("schedule:\n  intervals: {aws.iam.root_mfa_enabled: 9999999999d}\n")
    result = annexa("--config", str(config), "status", "--soa", SOA)
    assert_refused(result, "schedule.intervals.aws.iam.root_mfa_enabled", "100 years")


def test_schedule_interval_beyond_100_years_in_environment(annexa, monkeypatch):
    monkeypatch.setenv("ANNEXA_SCHEDULE__INTERVALS", '{"A.8.24": "9999999999d"}')
    assert_refused(annexa("status", "--soa", SOA), "schedule.intervals.A.8.24", "100 years")


# -- files that break their parsers ----------------------------------------------------------


def _xlsx(path: Path, broken_member: str | None = None) -> Path:
    book = Workbook()
    book.active.append(["control", "applicable"])
    book.active.append(["A.5.1", "yes"])
    good = path.with_suffix(".good.xlsx")
    book.save(good)
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            target.writestr(info, b"<broken" if info.filename == broken_member else data)
    return path


@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "[Content_Types].xml"])
def test_xlsx_with_broken_xml(annexa, tmp_path, member):
    soa = _xlsx(tmp_path / "soa.xlsx", member)
    assert_refused(annexa("status", "--soa", str(soa)), "soa.xlsx: not a readable .xlsx workbook")


def test_xlsx_intact_still_loads(annexa, tmp_path):
    soa = _xlsx(tmp_path / "soa.xlsx")
    code, _, err = annexa("status", "--soa", str(soa), "--format", "json")
    assert code == 0, err


def test_yaml_soa_nested_100000_levels(annexa, tmp_path):
    soa = tmp_path / "deep.yaml"
    soa.write_text("controls:\n  - " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert_refused(annexa("status", "--soa", str(soa)), "deep.yaml", "invalid YAML:", "nest")


def test_csv_soa_unterminated_quote(annexa, tmp_path):
    soa = tmp_path / "soa.csv"
    soa.write_text('control,applicable\nA.5.2,yes\n"A.5.1,yes\nA.5.3,yes\n')
    assert_refused(annexa("status", "--soa", str(soa)), "soa.csv line 4: invalid CSV")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("log_format: json\nlog_format: console\n", "line 2: invalid YAML: duplicate key"),
        ("aws:\n  regions: [eu-west-1]\n  regions: [us-east-1]\n", "line 3"),
        ("schedule: {intervals: {A.8.24: 1h, A.8.24: 2h}}\n", "duplicate key 'A.8.24'"),
    ],
    ids=["top-level", "nested", "flow-mapping"],
)
def test_duplicate_yaml_keys_in_config(annexa, tmp_path, text, needle):
    config = tmp_path / "annexa.yaml"
    config.write_text(text)
    assert_refused(annexa("--config", str(config), "checks"), "annexa.yaml", needle)


def test_duplicate_yaml_keys_in_soa(annexa, tmp_path):
    soa = tmp_path / "soa.yaml"
    soa.write_text("controls:\n  - {control: A.5.1, applicable: yes, applicable: no}\n")
    assert_refused(annexa("status", "--soa", str(soa)), "soa.yaml line 2", "duplicate key")


def test_yaml_merge_key_may_be_overridden(annexa, tmp_path):
    config = tmp_path / "annexa.yaml"
    config.write_text(
        "x-base: &base {timeout: 10s}\nalerts:\n  webhooks:\n"
        "    - {<<: *base, url: 'https://a.example', timeout: 5s}\n"
    )
    code, _, err = annexa("--config", str(config), "checks", "--format", "json")
    assert code == 2 and "x-base" in err  # an unknown top-level key, not a duplicate
    assert "duplicate" not in err


# -- environment and config ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("ANNEXA_MAPPINGS", "x.yaml", "ANNEXA_MAPPINGS: not valid JSON"),
        ("ANNEXA_AWS", "{bad", "ANNEXA_AWS: not valid JSON"),
    ],
)
def test_environment_value_that_is_not_json(annexa, monkeypatch, variable, value, needle):
    monkeypatch.setenv(variable, value)
    assert_refused(annexa("checks"), needle)


def test_unknown_annexa_environment_variable(annexa, monkeypatch, seeded):
    before = store_dump(seeded)
    monkeypatch.setenv("ANNEXA_DATABSE_URL", "sqlite:///elsewhere.sqlite")
    result = annexa("exception", "list")
    assert_refused(
        result, "ANNEXA_DATABSE_URL: no such setting (did you mean ANNEXA_DATABASE_URL?)"
    )
    assert store_dump(seeded) == before


def test_secret_variables_named_by_the_config_are_not_unknown(annexa, monkeypatch, tmp_path):
    config = tmp_path / "annexa.yaml"
    config.write_text(
        "azure:\n  tenants:\n    - {tenant_id: t, credential: client_secret, client_id: c,"
        " client_secret_env: ANNEXA_AZURE_SECRET}\n"
    )
    monkeypatch.setenv("ANNEXA_AZURE_SECRET", "s3cr3t")
    code, out, err = annexa("--config", str(config), "checks", "--format", "json")
    assert code == 0, err
    assert "s3cr3t" not in out + err


def test_unknown_id_in_exclude_checks(annexa, tmp_path):
    config = tmp_path / "annexa.yaml"
    config.write_text("exclude_checks: [aws.iam.root_mfa_enabled, aws.s3.nope]\n")
    result = annexa("--config", str(config), "status", "--soa", SOA)
    assert_refused(result, "exclude_checks: unknown check id(s) aws.s3.nope")


def test_unknown_key_in_schedule_intervals(annexa, tmp_path):
    config = tmp_path / "annexa.yaml"
    config.write_text("schedule:\n  intervals: {A.8.24: 1h, aws.iam.root_mfa: 1h}\n")
    result = annexa("--config", str(config), "checks")
    assert_refused(result, "schedule.intervals: aws.iam.root_mfa is neither a check id")


# -- selections ------------------------------------------------------------------------------


def test_run_with_unknown_provider(annexa, seeded):
    before = store_dump(seeded)
    result = annexa("run", "--provider", "awss", "--fail-on", "failing,error,stale")
    assert_refused(result, "unknown provider 'awss' (choose from aws,")
    assert store_dump(seeded) == before


def test_controls_with_unknown_provider(annexa):
    assert_refused(annexa("controls", "--provider", "bogus"), "unknown provider 'bogus'")


def test_selection_matching_no_check(annexa, seeded):
    before = store_dump(seeded)
    result = annexa("run", "--check", "aws.iam.root_mfa_enabled", "--provider", "gcp")
    assert_refused(result, "no check matches --check aws.iam.root_mfa_enabled and --provider gcp")
    assert store_dump(seeded) == before


def test_status_state_error_names_state(annexa):
    result = annexa("status", "--soa", SOA, "--state", "bogus")
    err = assert_refused(result, "--state: unknown state(s) bogus")
    assert "--fail-on" not in err


# -- read-only store and export target -------------------------------------------------------


def _read_only(path: Path) -> str:
    return f"sqlite:///file:{path}?mode=ro&uri=true"


@pytest.mark.parametrize(
    "args",
    [
        (*EXCEPTION, "--expires", "2030-01-01"),
        ("evidence", "add", "--control", "A.5.1", "--file", "{file}", "--valid-for", "30d"),
        ("exception", "revoke", "1", "--reason", "fixed"),
    ],
    ids=["exception-add", "evidence-add", "exception-revoke"],
)
def test_read_only_store_refuses_writes(annexa, seeded, tmp_path, args):
    before = store_dump(seeded)
    file = tmp_path / "f.txt"
    file.write_text("x")
    args = tuple(a.replace("{file}", str(file)) for a in args)
    result = annexa("--database", _read_only(seeded), *args)
    assert_refused(result, "cannot write to the evidence store", "readonly database")
    assert store_dump(seeded) == before


def test_db_upgrade_on_a_store_that_cannot_be_created(annexa, tmp_path):
    missing = tmp_path / "nothing-here.sqlite"
    result = annexa("--database", _read_only(missing), "db", "upgrade")
    assert_refused(result, "cannot upgrade evidence store")
    assert not missing.exists()


def test_export_refuses_a_device_as_target(annexa, seeded):
    result = annexa(
        "export",
        "--soa",
        SOA,
        "--from",
        "2020-01-01",
        "--to",
        "2020-02-01",
        "--out",
        "/dev/full",
        "--force",
    )
    assert_refused(result, "--out /dev/full: not a regular file")
    assert Path("/dev/full").is_char_device()


def test_export_into_an_unwritable_place_leaves_nothing(annexa, seeded, tmp_path):
    blocked = tmp_path / "out" / "audit.zip.partial"
    blocked.mkdir(parents=True)  # the temporary name beside the target cannot be created
    result = annexa(
        "export",
        "--soa",
        SOA,
        "--from",
        "2020-01-01",
        "--to",
        "2020-02-01",
        "--out",
        str(tmp_path / "out" / "audit.zip"),
    )
    assert_refused(result, "--out ", "audit.zip.partial")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["audit.zip.partial"]
