"""Web console benchmark: server time per page over 1,000,000 evidence records, the size of
``store_bench.py``'s store (100 checks x 20 targets x 500 collections), seeded as the export
benchmark seeds its history (real check ids and mapping, one record per check and target per
day, 500 days) so that every page has controls to show; ``--records`` scales it down.

    .venv/bin/python benchmarks/web_bench.py [--db DIR] [--records N] [--repeat 5]

Each page is requested in process through Starlette's test client (the ASGI app with its
middleware: sessions, CSRF, security headers), as the anonymous loopback viewer, with every
provider configured (``export_bench.BENCH_CONFIG``) so that the seeded evidence is judged. The
console's read at start (in the background) is waited for and reported; then the first request
of each page is reported apart ("first": the period or instant it shows not yet cut or read),
then the median of ``--repeat`` requests, each with the process's CPU time (a fairer figure on a
loaded machine); the load average is printed before and after. A store seeded before
migration 0007 gets its run summary derived when first opened (the migration).
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_bench import T0, bench_checks, bench_config, seeded_history

STORE_SIZE = 1_000_000  # store_bench.py: CHECKS x TARGETS x RUNS

PAGES = (
    "/",
    "/controls",
    "/controls?state=failing",
    "/controls?at=2025-06-30",
    "/controls/{control}",
    "/checks/{check}",
    "/records/{record}",
    "/runs",
    # the overview through its date picker and over a year chosen in its period form
    "/?at=2025-06-30",
    "/?from={year_ago}&to={last_day}",
    "/controls/{control}?from={year_ago}&to={last_day}",  # a control's page over that year
)


def main() -> None:
    args, url, days = seeded_history(__doc__.splitlines()[0], repeat=5, records=STORE_SIZE)

    from starlette.testclient import TestClient

    from collector.app import load_workspace
    from collector.settings import load_settings
    from collector.web.app import create_app

    settings = load_settings(bench_config(args.db), database_url=url)
    now = T0 + timedelta(days=days)
    check = bench_checks()[0]
    control = next(iter(load_workspace(settings).mapping.controls_for(check)))
    app = create_app(settings, clock=lambda: now)
    results = []
    print(f"load average before: {_load()}")
    with TestClient(app) as client:
        started = time.perf_counter()
        while any(t.name == "annexa-web-warm" for t in threading.enumerate()):
            time.sleep(0.01)
        print(f"  read at start, in the background: {time.perf_counter() - started:.1f} s")
        for template in PAGES:
            path = template.format(
                control=control,
                check=check,
                record=args.records // 2,
                last_day=(now - timedelta(days=1)).date(),
                year_ago=max(T0, now - timedelta(days=366)).date(),
            )
            response, first, first_cpu = _timed(client, path)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
            times = [_timed(client, path)[1:] for _ in range(args.repeat)]
            results.append((path, statistics.median(t for t, _ in times)))
            cpu = statistics.median(c for _, c in times)
            print(
                f"  {path}: {1000 * results[-1][1]:.0f} ms median of {args.repeat}, "
                f"{1000 * cpu:.0f} ms CPU (first {1000 * first:.0f} ms, "
                f"{1000 * first_cpu:.0f} ms CPU)",
                flush=True,
            )
    path, seconds = max(results, key=lambda r: r[1])
    print(f"slowest: {path} at {1000 * seconds:.0f} ms; load average after: {_load()}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB (the process: seeding aside, the console's reads in memory)")


def _timed(client: Any, path: str) -> tuple[Any, float, float]:
    """The response, its wall time and the process's CPU time (every thread) while served."""
    wall, cpu = time.perf_counter(), time.process_time()
    response = client.get(path)
    return response, time.perf_counter() - wall, time.process_time() - cpu


def _load() -> str:
    return " ".join(f"{n:.1f}" for n in os.getloadavg())


if __name__ == "__main__":
    main()
