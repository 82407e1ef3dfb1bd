"""Daemon soak: ``annexa daemon`` (the real console script, a subprocess) keeping N (check,
target) jobs fresh at a fixed cadence against a moto server on 127.0.0.1, for a while.

    .venv/bin/python benchmarks/daemon_soak.py [--jobs 500] [--interval 60] [--minutes 10]

Jobs: every account-wide AWS check once plus every regional AWS check in enough regions, some
account-wide checks left out so the plan is exactly ``--jobs`` (when it can be). Reports job
lateness p50/p95 in steady state (after the first cycle, whose overdue jobs are staggered on
purpose; also p95 including it) (job start minus its scheduled time, from the daemon's own
``annexa_job_lateness_seconds`` histogram, interpolated within buckets as Prometheus'
``histogram_quantile`` does), the daemon's resident memory after its first full cycle and at
the end, its average CPU over the soak, and CPU and memory of an idle daemon (the same jobs,
all fresh, nothing due) over ``--idle-seconds``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml
from moto.server import ThreadedMotoServer

from collector.registry import load_registry

REGIONS = [
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
    "eu-central-1", "eu-north-1", "eu-south-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1",
    "me-south-1", "af-south-1", "ap-east-1", "eu-central-2", "ap-south-2", "il-central-1",
]  # fmt: skip


#: Checks whose API the moto server does not serve (Access Analyzer has no server backend):
#: every run of them is a 500 retried with backoff, which measures moto, not the scheduler.
MOTO_SERVER_LACKS = frozenset({"aws.iam.access_analyzer_enabled"})


def plan(jobs: int) -> tuple[list[str], list[str]]:
    """(check ids, regions) giving exactly ``jobs`` jobs where possible."""
    registry = load_registry()
    aws = sorted(
        c.id
        for c in registry.checks.values()
        if c.provider == "aws" and c.id not in MOTO_SERVER_LACKS
    )
    regional = [c for c in aws if registry.scope_of(registry.checks[c]) == "region"]
    account = [c for c in aws if c not in regional]
    n = max(1, math.ceil((jobs - len(account)) / len(regional)))
    n = min(n, len(REGIONS))
    surplus = len(account) + len(regional) * n - jobs
    keep = account[: max(0, len(account) - max(0, surplus))]
    return keep + regional, REGIONS[:n]


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text)[1]) / 1024  # type: ignore[index]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def histogram(metrics: str, name: str) -> list[tuple[float, float]]:
    buckets = []
    for line in metrics.splitlines():
        m = re.match(rf'{name}_bucket{{le="([^"]+)"}} (\S+)', line)
        if m:
            buckets.append((float(m[1]), float(m[2])))
    return buckets


def quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    total = buckets[-1][1]
    rank, lower, below = q * total, 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * ((rank - below) / max(count - below, 1e-9))
        lower, below = bound, count
    return lower


def start(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    exe = shutil.which("annexa", path=str(Path(sys.executable).parent)) or "annexa"
    with log.open("ab") as out:
        return subprocess.Popen(
            [exe, "--config", str(config), "daemon"], env=env, stdout=out, stderr=out
        )


def wait_healthy(port: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code, body = get(f"http://127.0.0.1:{port}/healthz")
        if code == 200:
            return json.loads(body)
        time.sleep(0.5)
    raise SystemExit("daemon never became healthy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--interval", type=float, default=60.0, help="seconds")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=19108)
    args = parser.parse_args()

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, moto_port = server.get_host_and_port()
    work = Path(tempfile.mkdtemp(prefix="annexa-soak-"))
    checks, regions = plan(args.jobs)
    base = {
        "data_dir": str(work / "data"),
        "checks": checks,
        "aws": {"regions": regions},
        "log_format": "json",
        "daemon": {"port": args.port},
    }
    soak = base | {
        "schedule": {
            "intervals": dict.fromkeys(checks, args.interval),
            "jitter": "5s",
            "stagger": "30s",
            "concurrency": args.concurrency,
            "grace_period": "10s",
        }
    }
    (work / "soak.yaml").write_text(yaml.safe_dump(soak))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANNEXA_"))}
    env |= {
        "AWS_ENDPOINT_URL": f"http://{host}:{moto_port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "HOME": str(work),
    }

    daemon = start(work / "soak.yaml", env, work / "soak.log")
    health = wait_healthy(args.port)
    print(f"daemon up: {health['jobs']} jobs, interval {args.interval:g}s", flush=True)
    time.sleep(args.interval + 10)  # the first full cycle (all overdue, staggered)
    _, first = get(f"http://127.0.0.1:{args.port}/metrics")
    first_cycle = histogram(first, "annexa_job_lateness_seconds")
    rss_start, cpu_start, t_start = rss_mb(daemon.pid), cpu_seconds(daemon.pid), time.monotonic()
    samples = [rss_start]
    end = time.monotonic() + args.minutes * 60 - (args.interval + 10)
    while time.monotonic() < end:
        time.sleep(min(30, max(end - time.monotonic(), 0.1)))
        samples.append(rss_mb(daemon.pid))
    rss_end, cpu_end, t_end = rss_mb(daemon.pid), cpu_seconds(daemon.pid), time.monotonic()
    _, metrics = get(f"http://127.0.0.1:{args.port}/metrics")
    buckets = histogram(metrics, "annexa_job_lateness_seconds")
    # Steady state: the starts after the first cycle (whose overdue jobs are staggered on
    # purpose, so their lateness is the stagger, not the scheduler's).
    steady = [(b, c - c0) for (b, c), (_, c0) in zip(buckets, first_cycle, strict=True)]
    daemon.send_signal(signal.SIGTERM)
    code = daemon.wait(60)

    idle = base | {"schedule": {"intervals": dict.fromkeys(checks, "1h"), "jitter": 0}}
    (work / "idle.yaml").write_text(yaml.safe_dump(idle))
    quiet = start(work / "idle.yaml", env, work / "idle.log")
    wait_healthy(args.port)
    time.sleep(3)
    idle_cpu0, t0 = cpu_seconds(quiet.pid), time.monotonic()
    time.sleep(args.idle_seconds)
    idle_cpu = (cpu_seconds(quiet.pid) - idle_cpu0) / (time.monotonic() - t0) * 100
    idle_rss = rss_mb(quiet.pid)
    quiet.send_signal(signal.SIGTERM)
    quiet.wait(60)
    server.stop()

    growth = (rss_end - rss_start) / rss_start * 100
    report = {
        "jobs": health["jobs"],
        "interval_s": args.interval,
        "minutes": args.minutes,
        "job_starts": int(buckets[-1][1]) if buckets else 0,
        "steady_job_starts": int(steady[-1][1]) if steady else 0,
        "lateness_p50_s": round(quantile(0.5, steady), 3),
        "lateness_p95_s": round(quantile(0.95, steady), 3),
        "lateness_p95_incl_first_cycle_s": round(quantile(0.95, buckets), 3),
        "rss_after_first_cycle_mb": round(rss_start, 1),
        "rss_end_mb": round(rss_end, 1),
        "rss_growth_pct": round(growth, 1),
        "rss_max_mb": round(max(samples), 1),
        "cpu_avg_pct_during_soak": round((cpu_end - cpu_start) / (t_end - t_start) * 100, 1),
        "idle_cpu_pct": round(idle_cpu, 2),
        "idle_rss_mb": round(idle_rss, 1),
        "exit_code": code,
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, {platform.platform()}, "
        f"Python {platform.python_version()}",
    }
    print(json.dumps(report, indent=2))
    print(f"logs: {work}")


if __name__ == "__main__":
    main()
