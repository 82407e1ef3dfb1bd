"""Evidence store benchmark: append throughput, ``latest()`` and ``latest_at()`` over a
1,000,000-record history.

    .venv/bin/python benchmarks/store_bench.py [--url URL] [--repeat 3]

Without ``--url`` a temporary SQLite file is used. With ``--url postgresql+psycopg://...`` the
URL is used as an admin connection: the benchmark creates its own database and drops it after.
Seeding goes through ``EvidenceStore.append_many`` (one transaction per run of 2,000 records),
so the 1M-record history is fully sealed and chained, as in production.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, make_url, text

from storage import EvidenceStore, NewEvidence

CHECKS, TARGETS, RUNS = 100, 20, 500  # 1,000,000 evidence records
APPEND_RECORDS, FINDINGS_PER_RECORD = 100, 1_000  # 100,000 findings
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@contextmanager
def database(url: str | None) -> Iterator[str]:
    """A fresh database URL: a temp SQLite file, or a new database on the given server."""
    if url is None or url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="annexa-bench-") as tmp:
            yield url or f"sqlite:///{Path(tmp) / 'evidence.sqlite'}"
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"annexa_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def bucket_findings(n: int, seed: int) -> list[dict]:
    return [
        {
            "resource": f"arn:aws:s3:::acme-prod-data-{seed:03d}-{i:05d}",
            "passed": i % 7 != 0,
            "message": "all four public access block settings on"
            if i % 7
            else "BlockPublicPolicy is off: public access possible",
        }
        for i in range(n)
    ]


def bucket_snapshot(n: int, seed: int) -> dict:
    return {
        "buckets": [
            {
                "name": f"acme-prod-data-{seed:03d}-{i:05d}",
                "region": "eu-west-1",
                "public_access_block": {
                    "block_public_acls": True,
                    "block_public_policy": i % 7 != 0,
                    "ignore_public_acls": True,
                    "restrict_public_buckets": True,
                },
                "encryption": "aws:kms",
                "versioning": i % 3 == 0,
            }
            for i in range(n)
        ]
    }


def bench_append(store: EvidenceStore) -> float:
    """Append 100 records x 1,000 findings one ``append`` (one transaction) at a time."""
    snapshots = [bucket_snapshot(FINDINGS_PER_RECORD, s) for s in range(10)]  # 10 checks share one
    items = [
        NewEvidence(
            run_id="",
            check_id=f"aws.s3.check_{c:03d}",
            check_version=1,
            provider="aws",
            account="123456789012",
            region="eu-west-1",
            collected_at=T0,
            status="fail",
            summary=f"{FINDINGS_PER_RECORD // 7 + 1} of {FINDINGS_PER_RECORD} buckets failing",
            findings=bucket_findings(FINDINGS_PER_RECORD, c),
            observations=snapshots[c // 10],
        )
        for c in range(APPEND_RECORDS)
    ]
    run_id = store.start_run(started_at=T0, planned=APPEND_RECORDS)
    start = time.perf_counter()
    for item in items:
        store.append(_with_run(item, run_id))
    elapsed = time.perf_counter() - start
    store.finish_run(run_id, finished_at=T0, outcome="complete")
    return APPEND_RECORDS * FINDINGS_PER_RECORD / elapsed


def _with_run(item: NewEvidence, run_id: str) -> NewEvidence:
    from dataclasses import replace

    return replace(item, run_id=run_id)


def seed_history(store: EvidenceStore, progress: Callable[[int], None]) -> float:
    """CHECKS x TARGETS x RUNS sealed records, one append_many transaction per run."""
    statuses = ("pass", "pass", "pass", "fail", "error")
    start = time.perf_counter()
    for r in range(RUNS):
        at = T0 + timedelta(hours=6 * r)
        run_id = store.start_run(started_at=at, trigger="bench", planned=CHECKS * TARGETS)
        batch = []
        for t in range(TARGETS):
            account = f"{100000000000 + t}"
            snapshot = {"account": account, "run": r, "buckets": [f"b{t}-{i}" for i in range(5)]}
            for c in range(CHECKS):
                status = statuses[(c + t + r) % len(statuses)]
                findings = [
                    {
                        "resource": f"arn:aws:s3:::b{t}-{i}",
                        "passed": status != "fail" or i > 0,
                        "message": "ok" if status != "fail" or i > 0 else "public access possible",
                    }
                    for i in range(3 if status != "error" else 0)
                ]
                batch.append(
                    NewEvidence(
                        run_id=run_id,
                        check_id=f"aws.bench.check_{c:03d}",
                        check_version=1,
                        provider="aws",
                        account=account,
                        region="eu-west-1",
                        collected_at=at + timedelta(seconds=c),
                        status=status,  # type: ignore[arg-type]
                        summary=f"{len(findings)} buckets",
                        findings=findings,
                        observations=snapshot,
                        error="AccessDenied: s3:ListAllMyBuckets" if status == "error" else None,
                    )
                )
        store.append_many(batch)
        store.finish_run(run_id, finished_at=at + timedelta(minutes=5), outcome="complete")
        progress(r + 1)
    return time.perf_counter() - start


def control_status(store: EvidenceStore, now: datetime) -> list:
    """What ``annexa status`` computes: every control's status from the latest evidence.

    The bench checks are mapped round-robin onto the Technological and Organizational controls
    (several checks per control, as in a real mapping) and evaluated with the example SoA.
    """
    from collector.app import example_soa_path
    from collector.catalogue import load_catalogue
    from collector.mapping import Mapping, Pair, Strength
    from collector.soa import load_soa
    from collector.status import evaluate

    catalogue = load_catalogue()
    automated = [c.id for c in catalogue.controls if c.theme in ("Technological", "Organizational")]
    pairs = {
        f"aws.bench.check_{c:03d}": {
            automated[c % len(automated)]: Pair(Strength.SUFFICIENT, "benchmark mapping")
        }
        for c in range(CHECKS)
    }
    intervals = {check: timedelta(hours=6) for check in pairs}
    soa = load_soa(example_soa_path(), catalogue)
    return evaluate(catalogue, soa, Mapping(pairs), store.latest(), intervals, now)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                line.split(":", 1)[1].strip() for line in f if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return (
        f"{os.cpu_count()} CPUs ({model}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="sqlite:///path or postgresql+psycopg://... (admin)")
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (median)")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    with database(args.url) as url:
        store = EvidenceStore.open(url)
        print(f"database: {store!r} ({store.engine.dialect.name})")
        try:
            rates = []
            for _ in range(args.repeat):
                rates.append(bench_append(store))
            print(
                f"append: {statistics.median(rates):,.0f} findings/s "
                f"(median of {args.repeat} x {APPEND_RECORDS} records x "
                f"{FINDINGS_PER_RECORD} findings, one transaction per record)"
            )

            def progress(done: int) -> None:
                if done % 50 == 0:
                    print(f"  seeded {done * CHECKS * TARGETS:,} records", flush=True)

            seconds = seed_history(store, progress)
            total = store.count()
            print(
                f"seed: {CHECKS * TARGETS * RUNS:,} records in {seconds:.1f} s "
                f"({CHECKS * TARGETS * RUNS / seconds:,.0f} records/s); store holds {total:,}"
            )

            median, summaries = timed(store.latest, max(args.repeat, 5))
            print(
                f"latest(): {median * 1000:.1f} ms median over {max(args.repeat, 5)} calls, "
                f"{len(summaries):,} (check, target) rows"
            )  # type: ignore[arg-type]
            median, states = timed(
                lambda: control_status(store, T0 + timedelta(hours=6 * RUNS)), max(args.repeat, 5)
            )
            print(
                f"status of all {len(states)} controls (latest() + evaluate): "
                f"{median * 1000:.1f} ms median over {max(args.repeat, 5)} calls"
            )
            midway = T0 + timedelta(hours=6 * RUNS // 2, minutes=1)
            median, past = timed(lambda: store.latest_at(midway), max(args.repeat, 5))
            print(
                f"latest_at(mid-history): {median * 1000:.1f} ms median over "
                f"{max(args.repeat, 5)} calls, {len(past):,} (check, target) rows"
            )  # type: ignore[arg-type]
            ids = [f"aws.bench.check_{c:03d}" for c in range(10)]
            median, _ = timed(lambda: store.latest(ids), max(args.repeat, 5))
            print(f"latest(10 checks): {median * 1000:.1f} ms median")
            median, _ = timed(
                lambda: store.history(check_ids=ids[:1], limit=100), max(args.repeat, 5)
            )
            print(f"history(1 check, limit=100): {median * 1000:.1f} ms median")
        finally:
            store.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak_mb:.0f} MB (ru_maxrss)")


if __name__ == "__main__":
    main()
