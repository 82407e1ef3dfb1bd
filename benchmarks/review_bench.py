"""Management review benchmark: ``annexa report`` over one year of history (the export
benchmark's 730,000 sealed records: 365 days x 100 checks x 20 targets), all five formats.

    .venv/bin/python benchmarks/review_bench.py [--db DIR] [--records N] [--repeat 3]

The history is seeded (or reused) by ``export_bench.seed``. Each report runs in a fresh child
process (the real CLI, process start included); the child writes its own peak RSS (``VmHWM``
of /proc/self/status, read at exit: ``ru_maxrss`` of the children would keep the largest child
ever waited for). Wall time, the child's CPU time and the load average are printed per run,
since the machine may be shared.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_bench import CHECKS, T0, TARGETS, bench_config, seeded_history

# the child prints its own peak RSS at exit, whatever way the CLI ends
_CHILD = (
    "import atexit, sys\n"
    "def _peak():\n"
    "    with open('/proc/self/status') as f:\n"
    "        sys.stderr.write(next(l for l in f if l.startswith('VmHWM')))\n"
    "atexit.register(_peak)\n"
    "import cli\n"
    "cli.main()\n"
)


def report_once(url: str, out_dir: Path, days: int) -> tuple[float, float, float]:
    """One ``annexa report`` child over the whole history: (wall s, CPU s, peak RSS MB)."""
    end = (T0 + timedelta(days=days - 1)).date().isoformat()
    outs = [
        a
        for s in ("pdf", "html", "xlsx", "csv", "json")
        for a in ("--out", str(out_dir / f"review.{s}"))
    ]
    command = [
        sys.executable,
        "-c",
        _CHILD,
        "--database",
        url,
        "report",
        "--from",
        T0.date().isoformat(),
        "--to",
        end,
        "--force",
        *outs,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    env = os.environ | {"ANNEXA_CONFIG": str(bench_config(out_dir))}  # the evidence judged
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"report failed:\n{done.stdout}\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = re.search(r"VmHWM:\s+(\d+) kB", done.stderr)
    if peak is None:
        raise SystemExit(f"the child reported no VmHWM:\n{done.stderr}")
    return seconds, cpu, int(peak.group(1)) / 1024


def main() -> None:
    args, url, days = seeded_history(__doc__.splitlines()[0], repeat=3)
    runs = []
    for _ in range(args.repeat):
        load = os.getloadavg()[0]
        runs.append(report_once(url, args.db, days))
        wall, cpu, peak = runs[-1]
        print(
            f"  report {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {peak:.0f} MB "
            f"(load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)",
            flush=True,
        )
    print(
        f"report: {days * CHECKS * TARGETS:,} records, 5 formats, median of {args.repeat}: "
        f"{statistics.median(r[0] for r in runs):.1f} s wall, "
        f"{statistics.median(r[1] for r in runs):.1f} s CPU, "
        f"peak RSS {statistics.median(r[2] for r in runs):.0f} MB "
        f"(max {max(r[2] for r in runs):.0f} MB)"
    )


if __name__ == "__main__":
    main()
