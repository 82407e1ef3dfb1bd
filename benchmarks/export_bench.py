"""Export benchmark: one year of history (365 days x 100 checks x 20 targets, 730,000 sealed
evidence records) exported to an audit package and verified.

    .venv/bin/python benchmarks/export_bench.py [--db DIR] [--records N] [--repeat 3] [--level 1]

Seeding goes through ``EvidenceStore.append_many`` (one transaction per day of 2,000 records),
so the history is sealed and chained as in production; it is kept in ``--db`` (default a
directory under /tmp) and reused when it already holds the requested history. ``--records``
scales the history down (days = records / 2,000) for a quick run. Each export and each verify
runs in a fresh child process that reports its own peak RSS (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from store_bench import machine

CHECKS, TARGETS, DAYS = 100, 20, 365
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def bench_checks() -> list[str]:
    """The first 100 registered checks that run daily or more often (real ids, real mapping)."""
    from collector.registry import load_registry

    registry = load_registry()
    ranked = sorted(registry.checks.values(), key=lambda c: (c.interval, c.id), reverse=True)
    return sorted(c.id for c in ranked[:CHECKS])


# Every provider named (never contacted: the benchmarks only read the store), so that status,
# continuity and the reports judge the seeded evidence: a check counts only when its provider
# is configured. The records are all AWS-shaped targets (``aws:<account>:<region>``), which
# AWS's default entry (the default credential chain) admits whatever the account.
BENCH_CONFIG = {
    "azure": {"tenants": [{"tenant_id": "00000000-0000-0000-0000-000000000000"}]},
    "gcp": {"scopes": ["projects/bench"]},
    "workspace": {"admin_email": "admin@example.com", "key_file": "bench-key.json"},
    "okta": {"org_url": "https://bench.okta.com"},
    "fleet": {"base_url": "https://fleet.example.com"},
    "github": {"organizations": ["bench"]},
    "osquery": {"enabled": True},
    "identity": {"source": "okta"},
}


def bench_config(directory: Path) -> Path:
    """``BENCH_CONFIG`` written as ``annexa.yaml`` in ``directory`` (for ``--config`` or
    ``ANNEXA_CONFIG``)."""
    path = directory / "annexa.yaml"
    path.write_text(json.dumps(BENCH_CONFIG, indent=2) + "\n")  # JSON is YAML
    return path


def seed(url: str, days: int) -> None:
    from storage import EvidenceStore

    checks = bench_checks()
    store = EvidenceStore.open(url)
    have = store.count()
    if have == days * CHECKS * TARGETS:
        print(f"seed: reusing {have:,} records in {url}")
        return
    if have:
        raise SystemExit(f"{url} holds {have:,} records, not {days * CHECKS * TARGETS:,}")
    start = time.perf_counter()
    for d in range(days):
        at = T0 + timedelta(days=d)
        run_id = store.start_run(started_at=at, trigger="bench", planned=CHECKS * TARGETS)
        store.append_many(day_batch(run_id, d, checks))
        store.finish_run(run_id, finished_at=at + timedelta(minutes=5), outcome="complete")
        if (d + 1) % 30 == 0:
            print(f"  seeded {(d + 1) * CHECKS * TARGETS:,} records", flush=True)
    seconds = time.perf_counter() - start
    print(f"seed: {store.count():,} records in {seconds:.0f} s")
    store.close()


def day_batch(run_id: str, d: int, checks: list[str]) -> list:
    """Day ``d``'s records (one per check and target) as ``NewEvidence``."""
    from storage import NewEvidence

    at = T0 + timedelta(days=d)
    batch = []
    for t in range(TARGETS):
        account = f"{100000000000 + t // 4}"
        region = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2")[t % 4]
        snapshot = {
            "account": account,
            "region": region,
            "week": d // 7,
            "buckets": [f"acme-{t}-{i}" for i in range(4)],
        }
        for c, check_id in enumerate(checks):
            # mostly passing; a 30-day failing streak now and then; a rare error day
            failing = (d // 30 + c + t) % 10 == 0
            status = "error" if (d + c * 7 + t) % 97 == 0 else ("fail" if failing else "pass")
            findings = [
                {
                    "resource": f"arn:aws:s3:::acme-{t}-{i}",
                    "passed": not (failing and i == 0),
                    "message": "public access possible" if failing and i == 0 else "ok",
                }
                for i in range(2 if status != "error" else 0)
            ]
            batch.append(
                NewEvidence(
                    run_id=run_id,
                    check_id=check_id,
                    check_version=1,
                    provider="aws",
                    account=account,
                    region=region,
                    collected_at=at + timedelta(seconds=c),
                    status=status,  # type: ignore[arg-type]
                    summary=f"{len(findings)} resources",
                    findings=findings,
                    observations=snapshot,
                    error="AccessDenied: s3:ListAllMyBuckets" if status == "error" else None,
                )
            )
    return batch


def seeded_history(
    description: str, repeat: int, records: int = DAYS * CHECKS * TARGETS
) -> tuple[argparse.Namespace, str, int]:
    """The command line shared by the benchmarks over this history (``--db``, ``--records``,
    ``--repeat``): parsed arguments, the seeded store's URL and its number of days."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--db", type=Path, default=Path("/tmp/annexa-export-bench"))
    parser.add_argument("--records", type=int, default=records)
    parser.add_argument("--repeat", type=int, default=repeat)
    args = parser.parse_args()
    days = max(1, args.records // (CHECKS * TARGETS))
    args.db.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{args.db / f'evidence-{days}d.sqlite'}"
    print(f"machine: {machine()}")
    seed(url, days)
    return args, url, days


def export_once(url: str, out: Path, days: int, level: int = 1) -> dict:
    """One export in this process (called in a child): timings and peak RSS as JSON."""
    from collector.app import example_soa_path, load_workspace
    from collector.export import export_package
    from collector.settings import load_settings
    from collector.soa import load_soa
    from storage import EvidenceStore

    workspace = load_workspace(load_settings(bench_config(out.parent), database_url=url))
    soa = load_soa(example_soa_path(), workspace.catalogue)
    out.unlink(missing_ok=True)
    with EvidenceStore.open(url) as store:
        start = time.perf_counter()
        result = export_package(
            workspace,
            store,
            soa,
            start=T0,
            end=T0 + timedelta(days=days),
            out=out,
            now=T0 + timedelta(days=days),
            compresslevel=level,
        )
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "records": result.records,
        "files": result.files,
        "bytes": out.stat().st_size,
        "rss_mb": _peak_mb(),
    }


def verify_once(out: Path) -> dict:
    from collector.export import verify_package

    start = time.perf_counter()
    report = verify_package(out)
    return {
        "seconds": time.perf_counter() - start,
        "files": report.files,
        "records": report.records,
        "rss_mb": _peak_mb(),
    }


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(phase: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--phase", phase, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{phase} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=Path("/tmp/annexa-export-bench"))
    parser.add_argument("--records", type=int, default=DAYS * CHECKS * TARGETS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--level", type=int, default=1, help="deflate level (default 1)")
    parser.add_argument("--phase", choices=["export", "verify"], help=argparse.SUPPRESS)
    parser.add_argument("--days", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    days = args.days or max(1, args.records // (CHECKS * TARGETS))
    args.db.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{args.db / f'evidence-{days}d.sqlite'}"
    out = args.db / f"package-{days}d.zip"
    if args.phase == "export":
        print(json.dumps(export_once(url, out, days, args.level)))
        return
    if args.phase == "verify":
        print(json.dumps(verify_once(out)))
        return
    print(f"machine: {machine()}; deflate level {args.level}")
    seed(url, days)
    if args.seed_only:
        return
    exports, verifies = [], []
    for _ in range(args.repeat):
        exports.append(
            child("export", "--db", str(args.db), "--days", str(days), "--level", str(args.level))
        )
        verifies.append(child("verify", "--db", str(args.db), "--days", str(days)))
        print(f"  export {exports[-1]}\n  verify {verifies[-1]}", flush=True)
    records = exports[0]["records"]
    ex = statistics.median(e["seconds"] for e in exports)
    ve = statistics.median(v["seconds"] for v in verifies)
    print(
        f"export: {records:,} records, {exports[0]['files']:,} files, "
        f"{exports[0]['bytes'] / 1e6:,.0f} MB package: {ex:.1f} s median of {args.repeat} "
        f"({records / ex:,.0f} records/s), peak RSS {max(e['rss_mb'] for e in exports):.0f} MB"
    )
    print(
        f"verify: {ve:.1f} s median of {args.repeat} ({records / ve:,.0f} records/s), "
        f"peak RSS {max(v['rss_mb'] for v in verifies):.0f} MB"
    )


if __name__ == "__main__":
    main()
