"""``annexa export`` as a subprocess stopped by SIGTERM mid-export: exit 130, and neither the
package nor its ``.partial`` file is left behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from storage import EvidenceStore
from tests.export.conftest import S3, T0, TRAIL, record

RECORDS = 12_000  # an export of about 2 s: a wide window to stop it in


def seed_many(url: str) -> None:
    with EvidenceStore.open(url) as store:
        for day in range(RECORDS // 2_000):
            run = store.start_run(started_at=T0 + timedelta(days=day))
            store.append_many(
                [
                    record(
                        run,
                        (S3, TRAIL)[i % 2],
                        T0 + timedelta(days=day, seconds=i),
                        fail=i % 7 == 0,
                        region=f"region-{i // 2 % 500}",
                    )
                    for i in range(2_000)
                ]
            )
            store.finish_run(run, finished_at=T0 + timedelta(days=day, hours=1), outcome="complete")


def test_sigterm_mid_export_leaves_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'evidence.sqlite'}"
    seed_many(url)
    out = tmp_path / "out" / "audit.zip"
    out.parent.mkdir()
    partial = out.with_name("audit.zip.partial")
    exe = shutil.which("annexa", path=str(Path(sys.executable).parent)) or "annexa"
    env = {**os.environ, "ANNEXA_DATA_DIR": str(tmp_path / "data")}
    env.pop("ANNEXA_DATABASE_URL", None)
    period = ["--from", "2025-03-01", "--to", "2025-03-31", "--example-soa"]
    export = subprocess.Popen(
        [exe, "--database", url, "export", *period, "--out", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not partial.exists():  # the package is being written
            assert export.poll() is None, export.communicate()
            assert time.monotonic() < deadline, "export never started writing"
            time.sleep(0.005)
        export.send_signal(signal.SIGTERM)
        stdout, stderr = export.communicate(timeout=60)
    finally:
        if export.poll() is None:
            export.kill()
    # 130 as for Ctrl-C (typer turns the KeyboardInterrupt into a quiet exit 130)
    assert export.returncode == 130, stderr.decode()
    assert b"Traceback" not in stderr and b"wrote" not in stdout
    assert list(out.parent.iterdir()) == []


def test_interrupt_while_opening_the_package_removes_the_partial_file(
    tmp_path: Path, monkeypatch
) -> None:
    """The SIGTERM above can land right after the ``.partial`` file is created, while the
    writer is still being set up (before any ``with`` block can clean up): nothing is left."""
    from collector.export import package

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt  # what the SIGTERM handler raises

    monkeypatch.setattr(package.zipfile, "ZipFile", interrupted)
    out = tmp_path / "out" / "audit.zip"
    out.parent.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    try:
        package.PackageWriter(out, work, created=T0)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the interrupt was swallowed")
    assert list(out.parent.iterdir()) == []
