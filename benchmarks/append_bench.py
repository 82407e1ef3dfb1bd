"""What the run summary costs appends: one-day batches (one record per check and target, 2,000
records) appended to a copy of the export benchmark's store (1,000,000 records by default, the
store ``web_bench.py`` serves), each batch's CPU time and the part of it spent in
``storage.summary.extend`` (the runs extended and started, in the append's transaction).

    .venv/bin/python benchmarks/append_bench.py [--db DIR] [--records N] [--repeat 5]

The store in ``--db`` is seeded if need be (as ``export_bench.py`` seeds it) and only read: the
batches go to a copy (SQLite's backup API) in a temporary directory, removed afterwards. CPU
time is the process's (a fairer figure on a loaded machine); the load average is printed.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_bench import CHECKS, T0, TARGETS, bench_checks, day_batch, seeded_history

STORE_SIZE = 1_000_000


def main() -> None:
    args, url, days = seeded_history(__doc__.splitlines()[0], repeat=5, records=STORE_SIZE)

    from datetime import timedelta

    from storage import EvidenceStore, summary

    extend = summary.extend
    spent: list[float] = []

    def timed_extend(*a: object, **k: object) -> None:
        start = time.process_time()
        extend(*a, **k)  # type: ignore[arg-type]
        spent.append(time.process_time() - start)

    summary.extend = timed_extend  # type: ignore[assignment]
    checks = bench_checks()
    print(f"load average before: {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "evidence.sqlite"
        source = sqlite3.connect(f"file:{url.removeprefix('sqlite:///')}?mode=ro", uri=True)
        with sqlite3.connect(copy) as to:
            source.backup(to)
        source.close()
        rows = []
        with EvidenceStore.open(f"sqlite:///{copy}") as store:
            for d in range(days, days + args.repeat):
                at = T0 + timedelta(days=d)
                run_id = store.start_run(started_at=at, trigger="bench", planned=CHECKS * TARGETS)
                batch = day_batch(run_id, d, checks)
                start = time.process_time()
                store.append_many(batch)
                rows.append((time.process_time() - start, spent[-1]))
                print(
                    f"  day {d}: {len(batch):,} records, {1000 * rows[-1][0]:.0f} ms CPU, "
                    f"summary.extend {1000 * rows[-1][1]:.0f} ms",
                    flush=True,
                )
    total = statistics.median(t for t, _ in rows)
    part = statistics.median(e for _, e in rows)
    print(
        f"median of {len(rows)}: {1000 * total:.0f} ms CPU per batch, summary.extend "
        f"{1000 * part:.0f} ms ({100 * part / total:.0f} %); load average after: {_load()}"
    )


def _load() -> str:
    return " ".join(f"{n:.1f}" for n in os.getloadavg())


if __name__ == "__main__":
    main()
