"""Management review benchmark: ``annexa report`` over one year of history (the export
benchmark's 730,000 sealed records: 365 days x 100 checks x 20 targets), all five formats.

    .venv/bin/python benchmarks/review_bench.py [--db DIR] [--records N] [--repeat 3]

The history is seeded (or reused) by ``export_bench.seed``. Each report runs in a fresh child
process (the real CLI, process start included) that reports its wall time and peak RSS of the
child (``ru_maxrss`` of the waited-for children).
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_bench import CHECKS, T0, TARGETS, seeded_history


def report_once(url: str, out_dir: Path, days: int) -> tuple[float, float]:
    """One ``annexa report`` child over the whole history: (seconds, peak RSS MB)."""
    end = (T0 + timedelta(days=days - 1)).date().isoformat()
    outs = [
        a
        for s in ("pdf", "html", "xlsx", "csv", "json")
        for a in ("--out", str(out_dir / f"review.{s}"))
    ]
    command = [
        sys.executable,
        "-c",
        "import cli; cli.main()",
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
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"report failed:\n{done.stdout}\n{done.stderr}")
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    args, url, days = seeded_history(__doc__.splitlines()[0], repeat=3)
    runs = []
    for _ in range(args.repeat):
        runs.append(report_once(url, args.db, days))
        print(f"  report {runs[-1][0]:.1f} s, peak RSS so far {runs[-1][1]:.0f} MB", flush=True)
    print(
        f"report: {days * CHECKS * TARGETS:,} records, 5 formats: "
        f"{statistics.median(r[0] for r in runs):.1f} s median of {args.repeat}, "
        f"peak RSS {max(r[1] for r in runs):.0f} MB"
    )


if __name__ == "__main__":
    main()
