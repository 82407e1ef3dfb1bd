"""The CLI as a user meets it: output formats, exit codes, one-line errors."""

from __future__ import annotations

import csv
import io
import json

import pytest


def test_checks_json_lists_metadata_controls_and_permissions(annexa):
    code, out, _ = annexa("checks", "--provider", "aws", "--format", "json")
    assert code == 0
    rows = {row["id"]: row for row in json.loads(out)}
    s3 = rows["aws.s3.public_access_blocked"]
    assert "A.8.3" in s3["controls"] and "s3:ListAllMyBuckets" in s3["permissions"]
    assert rows["aws.ec2.ebs_encryption_by_default"]["scope"] == "region"


def test_checks_filtered_by_control(annexa):
    code, out, _ = annexa("checks", "--control", "A.8.24", "--format", "json")
    assert code == 0
    ids = {row["id"] for row in json.loads(out)}
    assert ids and all("A.8.24" in row["controls"] for row in json.loads(out))
    assert "aws.iam.root_mfa_enabled" not in ids


def test_controls_csv_covers_the_catalogue(annexa):
    code, out, _ = annexa("controls", "--provider", "aws", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 93
    by_id = {r["control"]: r for r in rows}
    assert by_id["A.8.24"]["automated"] == "yes" and by_id["A.5.1"]["automated"] == "no"


def test_status_on_empty_store_shows_no_evidence_manual_and_not_applicable(annexa):
    code, out, err = annexa("status", "--format", "json")
    assert code == 0
    assert "example SoA" in err  # no SoA configured: the notice names the fallback
    states = {row["control"]: row["state"] for row in json.loads(out)}
    assert len(states) == 93
    assert states["A.8.24"] == "no_evidence"
    assert states["A.5.1"] == "manual"
    assert states["A.7.5"] == "not_applicable"


def test_status_fail_on_gates_with_exit_1(annexa):
    code, _, err = annexa("status", "--format", "json", "--fail-on", "no_evidence")
    assert code == 1 and "control(s) in no_evidence: A.5" in err
    code, _, _ = annexa("status", "--format", "json", "--fail-on", "failing")
    assert code == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "--fail-on", "bogus"], "--fail-on: unknown state(s) bogus"),
        (["status", "--soa", "missing.csv"], "missing.csv"),
        (["checks", "--control", "A.99.1"], "unknown control id 'A.99.1'"),
        (["evidence", "show"], "give exactly one of --control or --check"),
        (["run", "--check", "aws.nope.nothing"], "unknown check id(s): aws.nope.nothing"),
        (
            ["--database", "postgresql+psycopg://annexa:s3cr3t@127.0.0.1:1/annexa", "runs"],
            "postgresql+psycopg://annexa:***@127.0.0.1:1/annexa",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(annexa, args, expected):
    code, out, err = annexa(*args)
    assert code == 2
    assert expected in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "s3cr3t" not in err + out


def test_bad_soa_row_named(annexa, tmp_path):
    soa = tmp_path / "soa.csv"
    soa.write_text("control,applicable,justification\nA.5.1,yes,\nA.5.99,yes,x\n")
    code, _, err = annexa("status", "--soa", str(soa))
    assert code == 2 and "soa.csv row 3" in err and "A.5.99" in err


def test_usage_error_exit_2(annexa):
    code, _, err = annexa("status", "--format", "yaml")
    assert code == 2 and "yaml" in err


def test_controls_missing_from_soa_are_reported(annexa, tmp_path):
    soa = tmp_path / "partial.yaml"
    soa.write_text(
        "controls:\n  - {control: A.5.1, applicable: yes}\n  - {control: A.8.24, applicable: yes}\n"
    )
    code, out, err = annexa("status", "--soa", str(soa), "--format", "json")
    assert code == 0
    assert "91 control(s) missing from the SoA partial.yaml" in err
    rows = {row["control"]: row for row in json.loads(out)}
    assert rows["A.8.24"]["in_soa"] is True and rows["A.8.5"]["in_soa"] is False


def test_db_upgrade_creates_the_store(annexa, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh' / 'store.sqlite'}"
    code, out, _ = annexa("--database", url, "db", "upgrade")
    assert code == 0 and "evidence database at revision" in out
    assert (tmp_path / "fresh" / "store.sqlite").is_file()
    code, out, _ = annexa("--database", url, "runs", "--format", "json")
    assert code == 0 and json.loads(out) == []


def test_permissions_aws_prints_a_least_privilege_policy(annexa):
    code, out, _ = annexa("permissions", "aws", "--check", "aws.s3.default_encryption")
    assert code == 0
    policy = json.loads(out)
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert "s3:GetEncryptionConfiguration" in statement["Action"]
    assert "iam:GetCredentialReport" not in statement["Action"]
    assert all(":Get" in a or ":List" in a or ":Describe" in a for a in statement["Action"])


def test_permissions_unknown_provider(annexa):
    code, _, err = annexa("permissions", "nimbus")
    assert code == 2 and "unknown provider 'nimbus'" in err
