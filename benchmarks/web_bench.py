"""Web console benchmark: server time per page over the export benchmark's history (real
check ids and mapping: 100 checks x 20 targets, one record each per day; 730,000 records for a
year, ``--records`` scales it down).

    .venv/bin/python benchmarks/web_bench.py [--db DIR] [--records N] [--repeat 5]

Each page is requested in process through Starlette's test client (the ASGI app with its
middleware: sessions, CSRF, security headers), as the anonymous loopback viewer, after one
warm-up request; the median of ``--repeat`` requests is printed per page.
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from export_bench import T0, bench_checks, seeded_history

PAGES = (
    "/",
    "/controls",
    "/controls?state=failing",
    "/controls?at=2025-06-30",
    "/controls/{control}",
    "/checks/{check}",
    "/records/{record}",
    "/runs",
)


def main() -> None:
    args, url, days = seeded_history(__doc__.splitlines()[0], repeat=5)

    from starlette.testclient import TestClient

    from collector.app import load_workspace
    from collector.settings import load_settings
    from collector.web.app import create_app

    settings = load_settings(None, database_url=url)
    now = T0 + timedelta(days=days)
    check = bench_checks()[0]
    control = next(iter(load_workspace(settings).mapping.controls_for(check)))
    app = create_app(settings, clock=lambda: now)
    results = []
    with TestClient(app) as client:
        for template in PAGES:
            path = template.format(control=control, check=check, record=args.records // 2)
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                client.get(path)
                times.append(time.perf_counter() - start)
            results.append((path, statistics.median(times)))
            print(f"  {path}: {1000 * results[-1][1]:.0f} ms median of {args.repeat}", flush=True)
    path, seconds = max(results, key=lambda r: r[1])
    print(f"slowest: {path} at {1000 * seconds:.0f} ms")


if __name__ == "__main__":
    main()
