"""``annexa report``: the management review input built from a real store, in every format."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.app import load_workspace
from collector.audit import period_continuity
from collector.review import build_review
from collector.settings import load_settings
from collector.soa import load_soa
from storage import EvidenceStore
from tests.store.test_store import evidence

H = timedelta(hours=1)
D = timedelta(days=1)
START = datetime(2024, 4, 20, tzinfo=UTC)
SOA = (
    "controls:\n"
    "  - {control: A.8.3, applicable: yes, owner: '=HYPERLINK(\"http://x\")', "
    "max_evidence_age: 30d}\n"
    "  - {control: A.7.5, applicable: no, justification: fully remote}\n"
)


def seed(url: str, checks: list[str]) -> None:
    """A.8.3's checks pass from START; one fails on bucket-a for 36 h, then again for 24 h."""
    failing = [{"resource": "bucket-a", "passed": False, "message": "public"}]
    timeline = [
        (0, "pass", None),
        (5 * 24, "fail", failing),
        (6 * 24 + 12, "pass", None),
        (12 * 24, "fail", failing),
        (13 * 24, "pass", None),
    ]
    with EvidenceStore.open(url) as store:
        # A.8.12's AWS checks only support it: its process evidence, valid all along
        store.add_manual(
            ["A.8.12"],
            b"data leakage prevention procedure",
            file_name="dlp.txt",
            media_type="text/plain",
            note="",
            uploaded_at=START - D,
            valid_until=START + 400 * D,
            uploaded_by="ciso",
        )
        run = store.start_run(started_at=START)
        for hours, status, findings in timeline:
            at = START + hours * H
            store.append_many(
                evidence(
                    run,
                    check_id=c,
                    at=at,
                    status=status if c == checks[0] else "pass",
                    findings=findings if c == checks[0] else None,
                )
                for c in checks
            )


@pytest.fixture
def setup(tmp_path: Path, store_url: str) -> tuple[Path, list[str]]:
    soa = tmp_path / "soa.yaml"
    soa.write_text(SOA)
    config = tmp_path / "annexa.yaml"
    config.write_text("{}\n")
    checks = list(load_workspace(load_settings(config)).mapping.checks_for("A.8.3"))
    seed(store_url, checks)
    return soa, checks


@pytest.mark.postgres
def test_measures_from_the_store_match_the_history(setup, store_url, tmp_path) -> None:
    soa_path, checks = setup
    config = tmp_path / "annexa.yaml"
    workspace = load_workspace(load_settings(config))
    soa = load_soa(soa_path, workspace.catalogue)
    now = datetime(2024, 6, 1, tzinfo=UTC)
    with EvidenceStore.open(store_url) as store:
        review = build_review(
            workspace, store, soa, start=START, end=START + 20 * D, now=now, unit="month"
        )
    control = next(c for c in review.controls if c.control.id == "A.8.3")
    assert control.owner == '=HYPERLINK("http://x")'
    m = control.current
    assert m.passing_share == pytest.approx((480 - 60) / 480)
    assert m.went_failing == 2
    assert m.restore_times == (36 * H, 24 * H)
    assert m.mean_restore == 30 * H and m.worst_restore == 36 * H
    assert control.previous.passing_share == 0.0  # nothing before START: no evidence
    assert control.change == pytest.approx(420 / 480)
    # the month boundary cuts the period: April (11 days, 36 h failing), May (9 days, 24 h)
    assert [s.passing_share for s in control.trend] == [
        pytest.approx((264 - 36) / 264),
        pytest.approx((216 - 24) / 216),
    ]
    assert [(r.check_id, r.resource, r.refailures) for r in review.recurring] == [
        (checks[0], "bucket-a", 1)
    ]
    assert review.open_findings == ()
    excluded = next(c for c in review.controls if c.control.id == "A.7.5")
    assert excluded.applicable is False and excluded.current.passing_share is None
    assert review.clipped is False


def test_a_period_reaching_past_now_is_clipped(setup, store_url, tmp_path) -> None:
    soa_path, _ = setup
    workspace = load_workspace(load_settings(tmp_path / "annexa.yaml"))
    soa = load_soa(soa_path, workspace.catalogue)
    now = START + 10 * D
    with EvidenceStore.open(store_url) as store:
        review = build_review(workspace, store, soa, start=START, end=START + 40 * D, now=now)
    assert review.clipped and review.end == now
    control = next(c for c in review.controls if c.control.id == "A.8.3")
    # 240 h counted, not 960: the failing 36 h weigh against ten days only
    assert control.current.passing_share == pytest.approx((240 - 36) / 240)
    assert review.slices[-1][1] == now


@pytest.mark.postgres
def test_cli_writes_every_format_with_owners_and_safe_cells(setup, annexa_db, tmp_path) -> None:
    soa, _ = setup
    outs = {s: tmp_path / f"review{s}" for s in (".html", ".pdf", ".csv", ".xlsx", ".json")}
    args = ["report", "--soa", str(soa), "--from", "2024-04-20", "--to", "2024-05-09"]
    code, _, err = annexa_db(*args, *[a for p in outs.values() for a in ("--out", str(p))])
    assert code == 0, err
    assert all(p.stat().st_size > 0 for p in outs.values())

    document = json.loads(outs[".json"].read_text())
    row = next(r for r in document["controls"] if r["control"] == "A.8.3")
    assert row["passing_pct"] == 87.5 and row["went_failing"] == 2
    assert row["mean_restore_h"] == 30.0 and row["worst_restore_h"] == 36.0
    assert document["summary"]["recurring_findings"] == 1
    assert set(document["method"]) == {"What is measured", "How", "When", "From which evidence"}

    raw = outs[".csv"].read_bytes()
    assert raw.count(b"\r\n") == len(document["controls"]) + 1
    rows = {r["control"]: r for r in csv.DictReader(io.StringIO(raw.decode()))}
    assert rows["A.8.3"]["owner"] == '\'=HYPERLINK("http://x")'  # never a live formula

    from openpyxl import load_workbook

    book = load_workbook(outs[".xlsx"])
    assert book.sheetnames == [
        "Summary",
        "Controls",
        "Open findings",
        "Recurring",
        "Expiring manual evidence",
        "Method",
    ]
    sheet = book["Controls"]
    header = [c.value for c in sheet[1]]
    owners = [
        r[header.index("owner")]
        for r in sheet.iter_rows(min_row=2, values_only=True)
        if r[0] == "A.8.3"
    ]
    assert owners == ['\'=HYPERLINK("http://x")']
    assert sheet.freeze_panes == "A2"

    from pypdf import PdfReader

    text = "\n".join(p.extract_text() for p in PdfReader(outs[".pdf"]).pages)
    assert "Management review input" in text and "A.8.3" in text and "87.5" in text
    assert "Method" in text and "Time to restore runs from entering failing" in text

    html = outs[".html"].read_text()
    assert html.count("<svg") == 3 and 'id="A.8.3"' in html
    assert "http://" not in html.split("<svg")[0].split("</style>")[0]  # no external asset
    assert "&#34;http://x&#34;" in html or "&quot;http://x&quot;" in html  # owner escaped


def test_cli_refuses_bad_output_and_keeps_existing_files(annexa, tmp_path) -> None:
    code, _, err = annexa(
        "report", "--from", "2024-01-01", "--to", "2024-02-01", "--out", str(tmp_path / "x.docx")
    )
    assert code == 2 and "unknown format" in err and err.count("\n") == 1
    existing = tmp_path / "r.json"
    existing.write_text("keep")
    code, _, err = annexa(
        "report", "--from", "2024-01-01", "--to", "2024-02-01", "--out", str(existing)
    )
    assert code == 2 and "--force" in err and existing.read_text() == "keep"
    code, _, err = annexa(
        "report", "--from", "2024-01-01", "--to", "2024-02-01", "--out", str(tmp_path)
    )
    assert code == 2 and "unknown format" in err
    code, _, err = annexa(
        "report", "--from", "2024-03-01", "--to", "2024-02-01", "--out", str(tmp_path / "r2.json")
    )
    assert code == 2 and err.count("\n") == 1 and not (tmp_path / "r2.json").exists()


@pytest.mark.postgres
@pytest.mark.usefixtures("setup")
def test_a_control_excluded_halfway_is_measured_while_it_applied(store_url, tmp_path) -> None:
    """The SoA given (today's) excludes A.8.3; the daemon recorded it excluded from day 10, so
    the first ten days are measured (the first failure) and the rest is excluded time."""
    soa_path = tmp_path / "soa-now.yaml"
    soa_path.write_text(
        "controls:\n"
        "  - {control: A.8.3, applicable: no, justification: moved to the provider, "
        "max_evidence_age: 30d}\n"
    )
    workspace = load_workspace(load_settings(tmp_path / "annexa.yaml"))
    soa = load_soa(soa_path, workspace.catalogue)
    with EvidenceStore.open(store_url) as store:
        store.record_transition("A.8.3", None, "passing", at=START - D)
        store.record_transition("A.8.3", "passing", "failing", at=START + 5 * D)
        store.record_transition("A.8.3", "failing", "passing", at=START + 6 * D + 12 * H)
        store.record_transition("A.8.3", "passing", "not_applicable", at=START + 10 * D)
        review = build_review(
            workspace,
            store,
            soa,
            start=START,
            end=START + 20 * D,
            now=datetime(2024, 6, 1, tzinfo=UTC),
        )
    control = next(c for c in review.controls if c.control.id == "A.8.3")
    assert control.applicable is True
    m = control.current
    assert m.passing_share == pytest.approx((240 - 36) / 240)
    assert m.went_failing == 1 and m.restore_times == (36 * H,)  # day 12's failure: excluded
    assert m.excluded == 10 * D
    assert m.state_at_end.value == "not_applicable"
    # April 20 - May 1 applicable until April 30; May wholly excluded
    assert [s.passing_share for s in control.trend] == [pytest.approx((240 - 36) / 240), None]
    # the previous 20 days: the SoA given (excluded) until the daemon's first record a day
    # before START, then applicable without evidence
    assert control.previous.excluded == 19 * D and control.previous.passing_share == 0.0
    other = next(c for c in review.controls if c.control.id == "A.8.12")
    assert other.applicable and other.current.excluded == timedelta(0)
    from collector.review.charts import render_chart

    assert review.states_at_end(1)["not_applicable"] >= 1
    assert "<!-- not_applicable -->" in render_chart("states", review, "svg").decode()
    # status --from/--to and the export's sheets read the same continuity
    with EvidenceStore.open(store_url) as store:
        found = period_continuity(
            workspace, store, soa, START, START + 20 * D, manual=[], exceptions=[]
        )
    assert next(c for c in found if c.control.id == "A.8.3").share == m.passing_share
