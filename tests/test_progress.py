"""Progress with ETA for run, export and verify: drawn on a terminal only, fed with a known
total by each long operation."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from collector.export import verify_package
from collector.progress import progress_bar
from storage import EvidenceStore
from tests.export.conftest import export_period, seed


def test_bar_only_on_a_terminal() -> None:
    piped = io.StringIO()
    with progress_bar(Console(file=piped), "exporting", "records") as update:
        assert update is None
    assert piped.getvalue() == ""
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    with progress_bar(console, "exporting", "records") as update:
        assert update is not None
        update(5, 10, "aws.s3.public_access_blocked")
    drawn = screen.getvalue()
    assert "exporting" in drawn and "5/10" in drawn and "ETA" in drawn and "50%" in drawn


def test_export_and_verify_report_progress_against_a_total(sqlite_url: str, tmp_path: Path) -> None:
    store = EvidenceStore.open(sqlite_url)
    try:
        seed(store)
        exported: list[tuple[int, int | None]] = []
        out = tmp_path / "audit.zip"
        export_period(store, out, progress=lambda done, total: exported.append((done, total)))
        assert exported[0] == (0, 8) and exported[-1] == (8, 8)
        checked: list[tuple[int, int]] = []
        report = store.verify_report(batch=2, progress=lambda d, t: checked.append((d, t)))
        assert report.problem is None
        assert checked == [(n, store.count()) for n in range(2, store.count() + 1, 2)]
    finally:
        store.close()
    hashed: list[tuple[int, int]] = []
    verify_package(out, progress=lambda d, t: hashed.append((d, t)))
    done = [d for d, _ in hashed]
    assert done == sorted(done) and 0 < done[-1] <= hashed[-1][1]
    assert hashed[-1][1] >= out.stat().st_size  # uncompressed bytes of every file
