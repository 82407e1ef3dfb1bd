"""What an exported package holds: records with their seals, SoA sheets, HTML, OCSF, OSCAL,
manual evidence, exceptions and sums; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from collector.app import example_soa_path, load_workspace
from collector.audit import status_over_period
from collector.export import export_package, verify_package
from collector.export.evidence import reseal
from collector.settings import load_settings
from collector.soa import load_soa
from storage import EvidenceStore
from tests.export.conftest import COLLECTOR, DAY, S3, T0, TRAIL

HOUR = DAY / 24

OCSF_REQUIRED = {
    "activity_id",
    "category_uid",
    "class_uid",
    "type_uid",
    "severity_id",
    "time",
    "finding_info",
    "compliance",
    "metadata",
    "status_id",
    "resources",
    "cloud",
}


@pytest.fixture(scope="module")
def workspace():
    return load_workspace(load_settings(None))


def export(workspace, store: EvidenceStore, out: Path, **kw):
    soa = load_soa(example_soa_path(), workspace.catalogue)
    return export_package(
        workspace, store, soa, start=T0, end=T0 + 4 * DAY, out=out, now=T0 + 5 * DAY, **kw
    )


def csv_rows(z: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(z.read(name).decode())))


def test_package_contents(workspace, seeded: EvidenceStore, tmp_path: Path) -> None:
    out = tmp_path / "audit.zip"
    result = export(workspace, seeded, out, controls=["A.8.3", "A.8.15", "A.5.1"])
    assert result.records == 8 and out.exists()
    assert not (tmp_path / "audit.zip.partial").exists()
    z = zipfile.ZipFile(out)
    names = set(z.namelist())
    records = sorted(n for n in names if n.startswith("evidence/") and n.endswith(".json"))
    assert len(records) == 8  # the records before and after the period are left out
    assert {n.split("/")[2] for n in records} == {S3, TRAIL}
    assert all(n.split("/")[1].startswith("2025-03-0") for n in records)
    # every record carries its full seal and re-seals from its own fields
    for name in records:
        document = json.loads(z.read(name))
        assert reseal(document)[1] == document["content_hash"]
        assert document["findings"] and document["observations"]["note"] == "é"
    # sums cover every other file, sorted, sha256sum format
    lines = z.read("SHA256SUMS").decode().splitlines()
    listed = [line.split("  ", 1)[1] for line in lines]
    assert listed == sorted(names - {"SHA256SUMS"})
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256(z.read(name)).hexdigest() == digest
    # per-control index files point at the stored-once records
    a83 = csv_rows(z, "controls/A.8.3/evidence.csv")
    assert {r["check"] for r in a83} == {S3} and len(a83) == 4
    assert {r["check"] for r in csv_rows(z, "controls/A.8.15/evidence.csv")} == {TRAIL}
    assert "controls/A.5.1/evidence.csv" not in names  # no automated check maps to A.5.1
    chain = csv_rows(z, "evidence/records.csv")
    assert [r["chained_to"] for r in chain][1:] == [r["record_id"] for r in chain][:-1]
    # runs, manual evidence (file included, HTML-escaped in the index) and exceptions
    runs = csv_rows(z, "runs.csv")
    assert len(runs) == 4
    # who collected each run and with which annexa, as the run's ledger entry seals it
    assert {r["collected_by"] for r in runs} == {
        f"aws:111111111111={COLLECTOR}; github:acme=app 42"
    }
    assert {r["annexa_version"] for r in runs} == {"0.9.0"}
    [manual] = csv_rows(z, "manual.csv")
    assert manual["control"] == "A.5.1" and z.read(manual["path"]) == b"%PDF- policy"
    assert manual["path"] == f"manual/{hashlib.sha256(b'%PDF- policy').hexdigest()}-policy_v2.pdf"
    [exception] = csv_rows(z, "exceptions.csv")
    assert exception["check"] == S3 and exception["approved_by"] == "cto"
    html = z.read("index.html").decode()
    assert "&lt;b&gt;board approved&lt;/b&gt;" in html and "<b>board" not in html
    assert "<script" not in html and "http://" not in html and "https://" not in html
    for href in ("controls/A.8.3/evidence.csv", manual["path"], records[-1].split("/")[-1]):
        assert href in html
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["controls"] == ["A.5.1", "A.8.3", "A.8.15"] and manifest["records"] == 8
    assert verify_package(out).records == 8


def test_soa_sheets(workspace, seeded: EvidenceStore, tmp_path: Path) -> None:
    out = tmp_path / "audit.zip"
    export(workspace, seeded, out, controls=["A.8.3", "A.5.1"])
    z = zipfile.ZipFile(out)
    rows = {r["control"]: r for r in csv_rows(z, "soa.csv")}
    assert set(rows) == {"A.5.1", "A.8.3"}
    # the same figures as ``status --at END --from START --to END`` (uncompressed timeline)
    soa = load_soa(example_soa_path(), workspace.catalogue)
    period = status_over_period(workspace, seeded, soa, start=T0, end=T0 + 4 * DAY, at=T0 + 4 * DAY)
    states = {s.control.id: s.state.value for s in period.statuses}
    shares = {
        c.control.id: round(c.share * 100, 2) for c in period.continuity if c.share is not None
    }
    for control in ("A.5.1", "A.8.3"):
        assert rows[control]["automated_status"] == states[control]
        assert float(rows[control]["continuity_percent"]) == shares[control]
    assert rows["A.8.3"]["automated_status"] == "stale" and rows["A.8.3"]["open_findings"] == "0"
    assert float(rows["A.8.3"]["continuity_percent"]) < 100
    assert rows["A.5.1"]["automated_status"] == "attested"
    sheet = load_workbook(io.BytesIO(z.read("soa.xlsx")), read_only=True).active
    values = list(sheet.values)
    assert values[0][:3] == ("control", "title", "theme") and len(values) == 3
    assert [v[0] for v in values[1:]] == ["A.5.1", "A.8.3"]


def test_ocsf_events(workspace, seeded: EvidenceStore, tmp_path: Path) -> None:
    out = tmp_path / "audit.zip"
    export(workspace, seeded, out, controls=["A.8.3"])
    lines = zipfile.ZipFile(out).read("findings.ocsf.jsonl").decode().splitlines()
    events = [json.loads(line) for line in lines]
    assert len(events) == 4 * 2  # 4 S3 records x 2 findings x 1 control (A.8.3)
    for e in events:
        assert set(e) >= OCSF_REQUIRED
        assert (e["class_uid"], e["category_uid"], e["type_uid"]) == (2003, 2, 200301)
        assert e["compliance"]["standards"] == ["ISO/IEC 27001:2022"]
        assert e["metadata"]["version"] == "1.5.0" and e["metadata"]["product"]["name"] == "annexa"
        assert e["metadata"]["profiles"] == ["cloud"]
        assert e["cloud"]["account"]["uid"] == "111111111111"
        assert (e["cloud"]["provider"], e["cloud"]["region"]) == ("AWS", "eu-west-1")
        assert {"uid", "title", "desc", "created_time"} <= set(e["finding_info"])
        assert e["resources"][0]["cloud_partition"] == "aws"
    failing = [e for e in events if e["compliance"]["status_id"] == 3]
    assert {e["compliance"]["control"] for e in failing} == {"A.8.3"}
    # the failing finding (day 2, 00:01) is covered by the exception created at 00:00
    assert {(e["status"], e["status_id"], e["compliance"]["status_id"]) for e in failing} == {
        ("Suppressed", 3, 3)
    }
    assert len({e["finding_info"]["uid"] for e in events}) == len(events)


def test_oscal_assessment_results(workspace, seeded: EvidenceStore, tmp_path: Path) -> None:
    out = tmp_path / "audit.zip"
    export(workspace, seeded, out, controls=["A.8.3", "A.8.15", "A.5.1"])
    z = zipfile.ZipFile(out)
    document = json.loads(z.read("assessment-results.oscal.json"))["assessment-results"]
    assert {"uuid", "metadata", "import-ap", "results"} <= set(document)
    assert document["metadata"]["oscal-version"] == "1.2.1"
    assert document["import-ap"]["href"] in z.namelist()
    [result] = document["results"]
    assert {"uuid", "title", "description", "start", "reviewed-controls"} <= set(result)
    observations = {o["uuid"]: o for o in result["observations"]}
    assert len(observations) == 8
    for o in observations.values():
        assert o["methods"] == ["AUTOMATED"] and o["collected"] < o["expires"]
        [evidence] = o["relevant-evidence"]
        [digest] = [p["value"] for p in evidence["props"] if p["name"] == "hash"]
        assert hashlib.sha256(z.read(evidence["href"])).hexdigest() == digest
    findings = {f["target"]["target-id"]: f for f in result["findings"]}
    # A.8.15: some of its checks never ran (no_evidence), so no automated finding
    assert set(findings) == {"A.8.3", "A.5.1"} and "A.8.15" in result["remarks"]
    for f in findings.values():
        assert f["target"]["type"] == "objective-id"
        assert f["target"]["status"]["state"] in ("satisfied", "not-satisfied")
        for related in f.get("related-observations", []):
            assert related["observation-uuid"] in observations
    assert len(findings["A.8.3"]["related-observations"]) == 4
    assert "related-observations" not in findings["A.5.1"]


def test_signed_package_verifies(workspace, seeded, tmp_path: Path, key_files) -> None:
    private, public = key_files
    out = tmp_path / "audit.zip"
    result = export(workspace, seeded, out, controls=["A.8.3"], sign_key=private)
    report = verify_package(out, [public])
    assert report.signed_by == result.signed_by and report.signed_by.startswith("SHA256:")
    # S3 records alternate with cloudtrail ones in the chain: no two are chain neighbours
    assert (report.records, report.links) == (4, 0)


def test_compressed_timeline_gives_the_same_continuity() -> None:
    """Run-length compression of the timeline changes no share and no gap."""
    from datetime import timedelta

    from collector.catalogue import load_catalogue
    from collector.continuity import compress, continuity
    from collector.mapping import Mapping, Pair, Strength
    from tests.test_continuity import history

    catalogue = load_catalogue()
    mapping = Mapping({S3: {"A.8.12": Pair(Strength.SUFFICIENT, "leakage")}})
    hour = timedelta(hours=1)
    statuses = ["pass"] * 5 + ["fail"] * 3 + ["error"] * 4 + ["pass"] * 6
    hours = [i * 5.0 for i in range(len(statuses))] + [200.0, 203.0, 230.0]
    events = history(S3, *zip(hours, [*statuses, "pass", "pass", "error"], strict=True))
    for max_age in (4 * hour, 6 * hour, 12 * hour, None):
        intervals = {} if max_age is None else {S3: max_age / 2}
        compressed = list(compress(events, {S3: max_age}))
        assert len(compressed) < len(events)
        args = (catalogue, None, mapping)
        period = (events[0].collected_at, events[0].collected_at + 250 * hour)
        full = continuity(*args, events, intervals, *period)
        short = continuity(*args, compressed, intervals, *period)
        assert [(c.share, c.gaps) for c in full] == [(c.share, c.gaps) for c in short]


def test_period_continuity_reads_the_compressed_timeline(workspace, seeded) -> None:
    """``status --from/--to`` and the export share ``period_continuity``: the compressed
    timeline gives every control the shares and gaps of the whole one."""
    from collector.audit import period_continuity
    from collector.continuity import compress, continuity, tightest_max_ages

    soa = load_soa(example_soa_path(), workspace.catalogue)
    intervals = {c.id: c.interval for c in workspace.registry.checks.values()}
    start, end = T0 + DAY / 2, T0 + 12 * DAY
    manual, exceptions = seeded.manual_items(), seeded.exceptions()
    got = period_continuity(
        workspace, seeded, soa, start, end, manual=manual, exceptions=exceptions
    )
    timeline = list(seeded.timeline(start, end))
    ages = tightest_max_ages(soa, workspace.mapping, intervals)
    assert len(list(compress(timeline, ages))) < len(timeline)
    full = continuity(
        workspace.catalogue,
        soa,
        workspace.mapping,
        timeline,
        intervals,
        start,
        end,
        manual=manual,
        exceptions=exceptions,
    )
    assert [(c.control.id, c.share, c.gaps) for c in got] == [
        (c.control.id, c.share, c.gaps) for c in full
    ]
    causes = {g.cause for c in got for g in c.gaps}
    assert {"failing", "stale"} <= causes


def test_period_reaching_past_now_stops_at_now(workspace, seeded, tmp_path: Path) -> None:
    """Asked for four days on the afternoon of the third: nothing after now is counted,
    "status at end" is status at now, and the package says where it stopped."""
    now = T0 + 2 * DAY + 17 * HOUR
    soa = load_soa(example_soa_path(), workspace.catalogue)
    out = tmp_path / "audit.zip"
    result = export_package(
        workspace, seeded, soa, start=T0, end=T0 + 4 * DAY, out=out, now=now, controls=["A.8.3"]
    )
    assert result.note == (
        f"the period ends after now: clipped to {now.isoformat()} "
        f"(was {(T0 + 4 * DAY).isoformat()})"
    )
    z = zipfile.ZipFile(out)
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["period"] == {"from": T0.isoformat(), "to": now.isoformat()}
    [row] = csv_rows(z, "soa.csv")
    clipped = status_over_period(workspace, seeded, soa, start=T0, end=now, at=now)
    [a83] = [c for c in clipped.continuity if c.control.id == "A.8.3"]
    assert float(row["continuity_percent"]) == round(a83.share * 100, 2)
    assert all(g.end <= now for g in a83.gaps)
    html = z.read("index.html").decode()
    assert "status at end of period" in html and now.isoformat() in html


def test_accepted_risk_in_sheets_and_oscal(workspace, seeded, tmp_path: Path) -> None:
    """At T0+2d+6h the S3 failure (day 2) is covered by the active exception: A.8.3, judged
    over the S3 check alone, is accepted, with the exception's reason, approver and expiry."""
    soa = load_soa(example_soa_path(), workspace.catalogue)
    out = tmp_path / "audit.zip"
    end = T0 + 2 * DAY + 6 * HOUR
    export_package(
        workspace, seeded, soa, start=T0, end=end, out=out, now=T0 + 5 * DAY,
        controls=["A.8.3"], scope=workspace.scope(ids=[S3], store=None),
    )  # fmt: skip
    z = zipfile.ZipFile(out)
    [row] = csv_rows(z, "soa.csv")
    assert row["automated_status"] == "accepted"
    expires = (T0 + 2 * DAY + 12 * HOUR).isoformat()
    assert row["accepted_risks"] == (
        f"exception #1 approved by cto, expires {expires}: log bucket is public by design"
    )
    [finding] = json.loads(z.read("assessment-results.oscal.json"))["assessment-results"][
        "results"
    ][0]["findings"]
    status = finding["target"]["status"]
    assert status["state"] == "not-satisfied" and status["reason"] == "other"
    assert status["remarks"].startswith("risk accepted: exception #1 approved by cto")
    assert '<td class="accepted">accepted' in z.read("index.html").decode()
