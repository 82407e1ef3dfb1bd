"""Concurrent writers and killed processes never break the chain."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from storage import GENESIS_HASH, EvidenceStore, NewEvidence

REPO = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import os, signal, sys
    from datetime import UTC, datetime
    from storage import EvidenceStore, NewEvidence

    url, mode, count, run_id = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    store = EvidenceStore.open(url)
    if mode == "kill":
        run_id = store.start_run(started_at=datetime.now(UTC), planned=10)
    for i in range(count):
        store.append(NewEvidence(
            run_id=run_id, check_id=f"{mode}.{os.getpid()}.{i}", check_version=1,
            provider="aws", account="1", region=None, collected_at=datetime.now(UTC),
            status="pass", summary="0 buckets", findings=[], observations={"i": i},
        ))
    print(run_id, flush=True)
    if mode == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    store.close()
""")


def _run_writer(
    tmp_path: Path, url: str, mode: str, count: int, run_id: str = "-"
) -> subprocess.Popen[str]:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(script), url, mode, str(count), run_id],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )


def _assert_unbroken(store: EvidenceStore, expected: int) -> None:
    records = sorted(store.history(limit=None), key=lambda r: r.id)
    assert len(records) == expected
    assert records[0].previous_hash == GENESIS_HASH
    assert all(b.previous_hash == a.content_hash for a, b in pairwise(records))
    assert store.verify() == (expected, None)


def test_killed_run_is_reconciled_as_interrupted(
    store: EvidenceStore, store_url: str, tmp_path: Path
) -> None:
    proc = _run_writer(tmp_path, store_url, "kill", 3)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -9, err
    run_id = out.strip()
    run = store.get_run(run_id)
    assert run is not None and (run.outcome, run.records, run.planned) == ("running", 3, 10)
    _assert_unbroken(store, 3)
    assert store.reconcile_interrupted() == [run_id]
    assert store.get_run(run_id).outcome == "interrupted"  # type: ignore[union-attr]
    assert store.reconcile_interrupted() == []


def test_two_threads_append_onto_one_chain(store: EvidenceStore) -> None:
    run_id = store.start_run(started_at=datetime.now(UTC))
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            for i in range(25):
                item = NewEvidence(
                    run_id=run_id,
                    check_id=f"{name}.{i}",
                    check_version=1,
                    provider="aws",
                    account="1",
                    region="eu-west-1",
                    collected_at=datetime.now(UTC),
                    status="pass",
                    summary="",
                    findings=[],
                    observations={"n": name},
                )
                if i % 5 == 0:
                    store.append_many([item, item])
                else:
                    store.append(item)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _assert_unbroken(store, 60)


def test_two_processes_append_onto_one_chain(
    store: EvidenceStore, store_url: str, tmp_path: Path
) -> None:
    run_id = store.start_run(started_at=datetime.now(UTC))
    procs = [_run_writer(tmp_path, store_url, "bulk", 30, run_id) for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    _assert_unbroken(store, 60)
    assert store.get_run(run_id).records == 60  # type: ignore[union-attr]
