"""``index.html`` answers an auditor without opening JSON: counts per state and a legend at the
top, the exclusion justification in the SoA table, each control's failing resources (bounded,
with the full list linked) and an anchor per control (``index.html#A.8.24``)."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

from collector.app import example_soa_path
from collector.export.html import HTML_FAILING_SHOWN, STATE_MEANINGS
from collector.soa import load_soa
from storage import EvidenceStore, NewEvidence
from tests.export.conftest import DAY, S3, T0, export_period, shared_workspace


class Page(HTMLParser):
    """Element ids, links, and the text of each table row by table."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"] or "")
        if tag == "a" and found.get("href"):
            self.links.append(found["href"] or "")
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_index_html_for_the_auditor(seeded: EvidenceStore, tmp_path: Path) -> None:
    # at the end of the period 30 buckets fail; one of them is covered by an exception
    run = seeded.start_run(started_at=T0 + 3 * DAY)
    findings = [
        {"resource": f"arn:aws:s3:::bucket-{n:02}", "passed": False, "message": "public"}
        for n in range(30)
    ]
    seeded.append(
        NewEvidence(
            run_id=run,
            check_id=S3,
            check_version=1,
            provider="aws",
            account="111111111111",
            region="eu-west-1",
            collected_at=T0 + 3 * DAY + timedelta(hours=6),
            status="fail",
            summary="30 of 30 failing",
            findings=findings,
            observations={},
        )
    )
    exception = seeded.add_exception(
        check_id=S3,
        resource_pattern="arn:aws:s3:::bucket-07",
        target_pattern="*",
        reason="static website",
        approved_by="cto",
        created_at=T0,
        expires_at=T0 + 60 * DAY,
        created_by="ciso",
    )
    controls = ["A.5.1", "A.7.5", "A.8.3", "A.8.24"]
    z = export_period(seeded, tmp_path / "audit.zip", controls=controls)
    soa = load_soa(example_soa_path(), shared_workspace().catalogue)
    text = z.read("index.html").decode()
    page = Page()
    page.feed(text)
    summary, soa_table, *sections = page.tables
    soa_rows = list(csv.DictReader(io.StringIO(z.read("soa.csv").decode())))

    # summary: every state with its count (matching soa.csv) and its meaning
    counted = {row[0]: (int(row[1]), row[2]) for row in summary[1:]}
    for state, meaning in STATE_MEANINGS.items():
        if state in counted:
            assert counted[state][1] == meaning
    assert {s for s, (n, _) in counted.items() if n} == {r["automated_status"] for r in soa_rows}
    for state in {r["automated_status"] for r in soa_rows}:
        assert counted[state][0] == sum(r["automated_status"] == state for r in soa_rows)
    assert sum(n for n, _ in counted.values()) == len(controls)

    # the SoA table shows the exclusion justification; each control links to its anchor
    header = soa_table[0]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in soa_table[1:]}
    excluded = soa.entry("A.7.5")
    assert excluded is not None and not excluded.applicable
    assert rows["A.7.5"]["Justification"] == " ".join(excluded.justification.split())
    for control in controls:
        assert control in page.ids and f"#{control}" in page.links

    # failing resources: bounded, the accepted one marked, the full list in the package
    assert re.search(r"Failing resources at the end of the period \(30, the first 25 shown", text)
    assert "controls/A.8.3/failing.csv" in page.links
    failing = [t for t in sections if t and t[0] == ["Check", "Target", "Resource", "Accepted by"]]
    assert len(failing[0]) - 1 == HTML_FAILING_SHOWN
    accepted = [r for r in failing[0][1:] if r[2] == "arn:aws:s3:::bucket-07"]
    assert accepted == [
        [S3, "aws:111111111111:eu-west-1", "arn:aws:s3:::bucket-07", f"exception #{exception.id}"]
    ]
    full = list(csv.DictReader(io.StringIO(z.read("controls/A.8.3/failing.csv").decode())))
    assert len(full) == 30
    assert {r["resource"] for r in full if r["accepted_by_exception"]} == {"arn:aws:s3:::bucket-07"}
    a83 = next(r for r in soa_rows if r["control"] == "A.8.3")
    assert a83["open_findings"] == "29"
