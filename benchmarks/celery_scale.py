"""Celery scale-out: one leader daemon, 1, 2 and 4 ``annexa worker`` processes, a simulated
AWS Organization of N member accounts (moto server: Organizations plus an assumed role into
each member), a private redis-server as broker, a fresh PostgreSQL database per sweep.

    .venv/bin/python benchmarks/celery_scale.py [--accounts 100] [--workers 1 2 4]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--writers 1 2 4 8]

A sweep: every job of every account is due at once (one task per account: its co-due checks
share their fetches; the leader publishes every 0.2 s); the sweep time runs from the leader's
plan to the last record stored.
Reports sweep seconds, jobs/s, tasks/s and the speedup over one worker. Then the store's
append ceiling: W writer processes appending 5-record batches (``append_jobs``, as workers
do) for ``--seconds`` each, records/s in all.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
import yaml

from benchmarks.store_bench import database
from collector.daemon import Daemon
from collector.logs import configure_logging
from collector.settings import load_settings
from storage import EvidenceStore, NewEvidence
from tests.aws.console import annexa_env

CHECKS = [  # 3 share the S3 bucket snapshot; 1 IAM, 1 regional EC2
    "aws.s3.public_access_blocked",
    "aws.s3.default_encryption",
    "aws.s3.versioning_enabled",
    "aws.iam.password_policy_strong",
    "aws.ec2.ebs_encryption_by_default",
]
ROLE = "AnnexaAudit"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


@contextmanager
def child(
    args: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def worker_args(config: Path, n: int) -> list[str]:
    """One ``annexa worker`` process running one task at a time."""
    args = [str(BIN / "annexa"), "--config", str(config), "worker", "--concurrency", "1"]
    return [*args, "--hostname", f"w{n}@bench"]


def seed_organization(endpoint: str, accounts: int) -> list[str]:
    """An organization of ``accounts`` members, each with one bucket (through the role)."""
    kw = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    org = boto3.client("organizations", **kw)
    org.create_organization(FeatureSet="ALL")
    members = []
    for n in range(accounts):
        made = org.create_account(Email=f"m{n}@example.com", AccountName=f"member-{n}")
        members.append(made["CreateAccountStatus"]["AccountId"])
    sts = boto3.client("sts", **kw)
    for account in members:
        creds = sts.assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed"
        )["Credentials"]
        boto3.client(
            "s3",
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            **kw,
        ).create_bucket(Bucket=f"data-{account}")
    return members


def sweep(tmp: Path, endpoint: str, broker: str, admin_url: str, workers: int) -> dict:
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    with database(admin_url) as url:
        config = tmp / f"annexa-{workers}.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "database_url": url,
                    "checks": CHECKS,
                    "executor": "celery",
                    "aws": {"regions": "session", "organization": {"role_name": ROLE}},
                    "celery": {"broker_url": broker, "queue_prefix": prefix},
                    "schedule": {"jitter": 0, "stagger": 0, "concurrency": 4},
                }
            )
        )
        env = annexa_env(endpoint, tmp / "data", LOG_FORMAT="json")
        logs = [tmp / f"worker-{workers}-{n}.log" for n in range(workers)]
        with ExitStack() as stack:
            started = [
                stack.enter_context(child(worker_args(config, n), log, env))
                for n, log in enumerate(logs)
            ]
            deadline = time.monotonic() + 120
            while not all('"worker ready"' in log.read_text() for log in logs):
                if time.monotonic() > deadline or any(p.poll() is not None for p in started):
                    raise SystemExit(f"workers did not start: {logs}")
                time.sleep(0.2)
            settings = load_settings(config)
            settings.daemon.port = 0
            daemon = Daemon(settings, poll=0.2)
            thread = threading.Thread(target=daemon.run, daemon=True)
            thread.start()
            while daemon._plan is None:
                time.sleep(0.05)
            began = time.monotonic()
            planned = len(daemon._plan.jobs)
            store = EvidenceStore.open(url)
            while store.count() < planned:
                time.sleep(0.2)
            seconds = time.monotonic() - began
            published = daemon.metrics.registry.get_sample_value(
                "annexa_tasks_published_total", {"provider": "aws"}
            )
            tasks = int(published or 0)
            errors = sum(r.status == "error" for r in store.history(limit=None))
            store.close()
            daemon.request_stop()
            thread.join(60)
    return {
        "workers": workers,
        "jobs": planned,
        "tasks": tasks,
        "seconds": seconds,
        "errors": errors,
    }


def _writer(url: str, seconds: float, index: int, out: multiprocessing.Queue) -> None:
    store = EvidenceStore.open(url)
    run_id = store.start_run(started_at=datetime.now(UTC), trigger="bench")
    findings = [
        {"resource": f"arn:aws:s3:::b{i}", "passed": i % 3 > 0, "message": "m"} for i in range(20)
    ]
    stored, n = 0, 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        slot = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=n)).isoformat()
        pairs = []
        for c in range(5):
            evidence = NewEvidence(
                run_id=run_id,
                check_id=f"bench.check{c}",
                check_version=1,
                provider="aws",
                account=f"{index:012d}",
                region=None,
                collected_at=datetime.now(UTC),
                status="fail",
                summary="7 of 20 buckets failing",
                findings=findings,
                observations={"writer": index, "n": n},
            )
            pairs.append((f"{evidence.check_id}@{evidence.target_key}@{slot}", evidence))
        stored += len(store.append_jobs(pairs))
        n += 1
    store.close()
    out.put(stored)


def append_ceiling(admin_url: str, writers: int, seconds: float) -> float:
    with database(admin_url) as url:
        EvidenceStore.open(url).close()  # migrate once
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        procs = [ctx.Process(target=_writer, args=(url, seconds, i, out)) for i in range(writers)]
        for p in procs:
            p.start()
        total = sum(out.get(timeout=seconds + 120) for _ in procs)
        for p in procs:
            p.join(60)
        with EvidenceStore.open(url) as store:
            assert store.verify()[1] is None
    return total / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--seconds", type=float, default=10.0, help="per append measurement")
    parser.add_argument(
        "--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    configure_logging("console", level=logging.WARNING)  # the leader's own log, in process
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cores; "
        f"load before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    with tempfile.TemporaryDirectory(prefix="annexa-celery-bench-") as tmp_name:
        tmp = Path(tmp_name)
        moto_port, redis_port = free_port(), free_port()
        redis = [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(redis_port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            tmp_name,
        ]
        with (
            child([str(BIN / "moto_server"), "-p", str(moto_port)], tmp / "moto.log"),
            child(redis, tmp / "redis.log"),
        ):
            wait_port(moto_port)
            wait_port(redis_port)
            endpoint = f"http://127.0.0.1:{moto_port}"
            os.environ |= {  # the seeding here and the leader's account resolution
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
            }
            os.environ.pop("AWS_PROFILE", None)
            began = time.monotonic()
            seed_organization(endpoint, args.accounts)
            print(f"seeded {args.accounts} member accounts in {time.monotonic() - began:.0f} s")
            results = []
            for workers in args.workers:
                result = sweep(
                    tmp, endpoint, f"redis://127.0.0.1:{redis_port}/0", args.postgres, workers
                )
                results.append(result)
                print(
                    f"workers {workers}: {result['jobs']} jobs in {result['tasks']} tasks, "
                    f"sweep {result['seconds']:.1f} s, {result['jobs'] / result['seconds']:.1f} "
                    f"jobs/s, {result['tasks'] / result['seconds']:.2f} tasks/s, speedup "
                    f"{results[0]['seconds'] / result['seconds']:.2f}x "
                    f"(errors {result['errors']}); load {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
    for writers in args.writers:
        rate = append_ceiling(args.postgres, writers, args.seconds)
        print(
            f"append: {writers} writers, {rate:.0f} records/s ({rate / 5:.0f} batches/s); "
            f"load {os.getloadavg()[0]:.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
