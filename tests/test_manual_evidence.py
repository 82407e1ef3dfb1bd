"""Manual evidence: upload, list, get back (CLI on SQLite and PostgreSQL) and the ATTESTED /
AT_RISK / STALE / MANUAL states it gives a control without automated checks."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from collector.catalogue import Catalogue, load_catalogue
from collector.status import ControlState, evaluate
from storage import MAX_BLOB_BYTES, ManualEvidence
from tests.test_status import INTERVALS, MAPPING, NOW, S3, ev

DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def item(
    id_: int = 1,
    control: str = "A.5.1",
    *,
    uploaded: timedelta = 10 * DAY,
    valid: timedelta = 100 * DAY,
    name: str = "policy.pdf",
) -> ManualEvidence:
    """An item uploaded ``uploaded`` before NOW, valid for ``valid`` from its upload."""
    at = NOW - uploaded
    return ManualEvidence(
        id=id_,
        control_id=control,
        sha256=hashlib.sha256(name.encode()).hexdigest(),
        file_name=name,
        size=10,
        media_type="application/pdf",
        note="",
        uploaded_at=at,
        valid_from=at,
        valid_until=at + valid,
        uploaded_by="alice",
    )


def status_of(catalogue: Catalogue, control: str, manual: list[ManualEvidence], **kw: object):
    evidence = kw.pop("evidence", [])
    statuses = evaluate(catalogue, None, MAPPING, evidence, INTERVALS, NOW, manual=manual, **kw)  # type: ignore[arg-type]
    return {s.control.id: s for s in statuses}[control]


def test_attested_inside_the_window(catalogue: Catalogue) -> None:
    status = status_of(catalogue, "A.5.1", [item()])
    assert status.state is ControlState.ATTESTED and not status.at_risk
    [reason] = status.reasons
    assert reason.state is ControlState.ATTESTED
    assert "policy.pdf" in reason.message and "by alice" in reason.message
    assert status.last_evidence_at == NOW - 10 * DAY and status.max_age == 100 * DAY


def test_at_risk_in_the_last_fifth_of_the_window(catalogue: Catalogue) -> None:
    at_threshold = status_of(catalogue, "A.5.1", [item(uploaded=80 * DAY)])
    assert at_threshold.state is ControlState.ATTESTED and at_threshold.at_risk
    before = status_of(catalogue, "A.5.1", [item(uploaded=80 * DAY - timedelta(seconds=1))])
    assert not before.at_risk
    custom = status_of(catalogue, "A.5.1", [item(uploaded=60 * DAY)], at_risk_fraction=0.5)
    assert custom.at_risk


def test_stale_after_valid_until_manual_before_any(catalogue: Catalogue) -> None:
    expired = status_of(catalogue, "A.5.1", [item(uploaded=101 * DAY)])
    assert expired.state is ControlState.STALE
    assert "expired at" in expired.reasons[0].message
    last_instant = status_of(catalogue, "A.5.1", [item(uploaded=100 * DAY)])
    assert last_instant.state is ControlState.ATTESTED
    assert status_of(catalogue, "A.5.1", []).state is ControlState.MANUAL
    future = status_of(catalogue, "A.5.1", [item(uploaded=-DAY)])  # uploaded after NOW
    assert future.state is ControlState.MANUAL


def test_newer_upload_supersedes(catalogue: Catalogue) -> None:
    old_valid = item(1, uploaded=50 * DAY, valid=400 * DAY, name="old.pdf")
    newer_expired = item(2, uploaded=20 * DAY, valid=10 * DAY, name="new.pdf")
    status = status_of(catalogue, "A.5.1", [old_valid, newer_expired])
    assert status.state is ControlState.STALE and "new.pdf" in status.reasons[0].message
    other_control = status_of(catalogue, "A.5.2", [old_valid, newer_expired])
    assert other_control.state is ControlState.MANUAL


def test_automated_control_lists_manual_items_without_changing_state(
    catalogue: Catalogue,
) -> None:
    manual = [item(control="A.8.12", name="dlp-review.pdf")]
    passing = status_of(catalogue, "A.8.12", manual, evidence=[ev(S3)])
    assert passing.state is ControlState.PASSING
    assert [r.state for r in passing.reasons] == [ControlState.PASSING, ControlState.ATTESTED]
    expired = [item(control="A.8.12", uploaded=200 * DAY)]
    failing = status_of(catalogue, "A.8.12", expired, evidence=[ev(S3, "fail")])
    assert failing.state is ControlState.FAILING
    assert failing.reasons[-1].state is ControlState.MANUAL  # listed, not STALE
    assert "expired" in failing.reasons[-1].message
    # an expired manual item never makes a passing automated control stale
    still = status_of(catalogue, "A.8.12", expired, evidence=[ev(S3)])
    assert still.state is ControlState.PASSING


# -- CLI ----------------------------------------------------------------------------------


def test_cli_add_list_get_and_status(annexa_db, tmp_path) -> None:
    policy = tmp_path / "policy.pdf"
    policy.write_bytes(b"%PDF-1.7 information security policy")
    code, out, err = annexa_db(
        "evidence",
        "add",
        "--control",
        "A.5.1",
        "--file",
        str(policy),
        "--valid-for",
        "365d",
        "--note",
        "ISMS policy v3",
        "--by",
        "alice",
        "--format",
        "json",
    )
    assert code == 0, err
    [row] = json.loads(out)
    digest = hashlib.sha256(policy.read_bytes()).hexdigest()
    assert (row["control"], row["sha256"], row["size"]) == ("A.5.1", digest, 36)
    assert (row["media_type"], row["uploaded_by"], row["note"]) == (
        "application/pdf",
        "alice",
        "ISMS policy v3",
    )
    uploaded = datetime.fromisoformat(row["uploaded_at"])
    assert datetime.fromisoformat(row["valid_until"]) - uploaded == 365 * DAY
    assert abs(datetime.now(UTC) - uploaded) < timedelta(minutes=5)

    newer = tmp_path / "policy-v4.txt"
    newer.write_text("v4")
    assert (
        annexa_db(
            "evidence", "add", "--control", "A.5.1", "--file", str(newer), "--valid-for", "30d"
        )[0]
        == 0
    )
    code, out, _ = annexa_db("evidence", "list", "--format", "json")
    assert [(r["file"], r["state"]) for r in json.loads(out)] == [("policy-v4.txt", "current")]
    code, out, _ = annexa_db("evidence", "list", "--all", "--control", "A.5.1", "--format", "json")
    rows = json.loads(out)
    assert [(r["file"], r["state"], r["media_type"]) for r in rows] == [
        ("policy.pdf", "superseded", "application/pdf"),
        ("policy-v4.txt", "current", "text/plain"),
    ]
    target = tmp_path / "back.pdf"
    code, out, _ = annexa_db("evidence", "get", digest, "--out", str(target))
    assert code == 0 and target.read_bytes() == policy.read_bytes()

    code, out, _ = annexa_db("status", "--format", "json")
    states = {r["control"]: r for r in json.loads(out)}
    assert states["A.5.1"]["state"] == "attested"
    assert "policy-v4.txt" in states["A.5.1"]["reasons"][0]


def test_cli_2013_id_gives_one_item_per_2022_control(annexa, tmp_path) -> None:
    catalogue = load_catalogue()
    old = next(o for o in catalogue.iso2013_ids() if len(catalogue.translate(o)) > 1)
    doc = tmp_path / "doc.txt"
    doc.write_text("x")
    code, out, _ = annexa(
        "evidence",
        "add",
        "--control",
        old,
        "--file",
        str(doc),
        "--valid-for",
        "1w",
        "--format",
        "json",
    )
    assert code == 0
    assert [r["control"] for r in json.loads(out)] == list(catalogue.translate(old))


def test_cli_too_large_file_is_refused(annexa, tmp_path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as f:
        f.truncate(MAX_BLOB_BYTES + 1)
    code, _, err = annexa(
        "evidence", "add", "--control", "A.5.1", "--file", str(big), "--valid-for", "1d"
    )
    assert code == 2 and "big.bin: larger than the 50 MB limit" in err and err.count("\n") == 1
    code, out, _ = annexa("evidence", "list", "--all", "--format", "json")
    assert json.loads(out) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--control", "A.5.99", "--valid-for", "1d"], "unknown control id 'A.5.99'"),
        (["--control", "A.5.1", "--valid-for", "soon"], "--valid-for: invalid duration 'soon'"),
        (["--control", "A.5.1", "--valid-for", "1d", "--missing"], "cannot read"),
    ],
)
def test_cli_bad_input_writes_nothing(annexa, tmp_path, args, expected) -> None:
    doc = tmp_path / "doc.txt"
    doc.write_text("x")
    if "--missing" in args:
        args = [a for a in args if a != "--missing"]
        doc = tmp_path / "nope.txt"
    code, _, err = annexa("evidence", "add", "--file", str(doc), *args)
    assert code == 2 and expected in err and err.count("\n") == 1
    code, out, _ = annexa("evidence", "list", "--all", "--format", "json")
    assert json.loads(out) == []


def test_cli_get_unknown_sha(annexa, tmp_path) -> None:
    code, _, err = annexa("evidence", "get", "ab" * 32, "--out", str(tmp_path / "x"))
    assert code == 2 and "no manual evidence file with sha256" in err
