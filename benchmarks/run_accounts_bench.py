"""What ``status`` adds for targets only resolution names: ``EvidenceStore.run_accounts``
(the newest run recording a provider's accounts) over a run table of N runs.

    .venv/bin/python benchmarks/run_accounts_bench.py [--url URL] [--runs 10000] [--repeat 7]

Each run records 5 AWS accounts and an Azure subscription (as ``annexa run`` does when it
starts). Timed: a provider the newest run recorded (``aws`` + ``azure``: the usual case) and
one no run recorded (``gcp``: every row is matched and none read). Medians of wall and CPU time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert
from store_bench import database, machine

from storage import EvidenceStore
from storage.base import run_t


def seed(store: EvidenceStore, runs: int) -> None:
    """``runs`` finished runs, five minutes apart (rows written directly: the run table is
    not what is measured being written)."""
    now = datetime.now(UTC)
    accounts = {f"aws:{100000000000 + j}": "arn:aws:sts::1:assumed-role/A/annexa" for j in range(5)}
    rows = [
        {
            "id": uuid.uuid4().hex,
            "started_at": now - timedelta(minutes=5 * i),
            "finished_at": now,
            "outcome": "complete",
            "trigger": "cli",
            "host": "bench",
            "pid": 1,
            "planned": 10,
            "annexa_version": "bench",
            "collected_by": accounts | {"azure:s1": "app"},
        }
        for i in range(runs)
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(run_t), rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="sqlite:///path or postgresql+psycopg://... (admin)")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(machine())
    with database(args.url) as url, EvidenceStore.open(url) as store:
        seed(store, args.runs)
        for wanted in (["aws", "azure"], ["gcp"]):
            wall, cpu = [], []
            for _ in range(args.repeat):
                w, c = time.perf_counter(), time.process_time()
                store.run_accounts(wanted)
                wall.append(time.perf_counter() - w)
                cpu.append(time.process_time() - c)
            print(
                f"{args.runs} runs, {'+'.join(wanted)}: wall {statistics.median(wall) * 1e3:.1f}"
                f" ms, CPU {statistics.median(cpu) * 1e3:.1f} ms (medians of {args.repeat})"
            )


if __name__ == "__main__":
    main()
