"""AWS scan benchmark: a full ``annexa run`` (every AWS check, the real console script) against
a moto server on 127.0.0.1 seeded with one account, three regions, 1,000 S3 buckets, 500 IAM
users with access keys, 300 security groups, 200 EBS volumes and 100 KMS keys.

Requests are counted by a WSGI middleware around moto's app (the server sees every HTTP
request annexa makes, retries included). Each request is keyed by (service, region, method,
path, query, body): a key seen twice is a repeated call. Prints the wall time (median of
``--repeat`` runs), the peak RSS of the annexa process, request counts per operation beside the
expected count, and the machine.

    .venv/bin/python benchmarks/aws_scan_bench.py --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.aws.moto_server import start_server

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def seed(endpoint: str, args: argparse.Namespace) -> dict[str, int]:
    """Create the estate with boto3 against the server, in threads."""
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGIONS[0]
    )
    lock = threading.Lock()

    def client(service: str, region: str = REGIONS[0]) -> Any:
        with lock:
            return session.client(service, region_name=region, endpoint_url=endpoint)

    def bucket(i: int) -> None:
        s3 = client("s3")
        name = f"bench-bucket-{i:04d}"
        s3.create_bucket(Bucket=name)
        if i % 2:
            s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration={k: True for k in _BLOCK},
            )

    def user(i: int) -> None:
        iam = client("iam")
        iam.create_user(UserName=f"bench-user-{i:03d}")
        iam.create_access_key(UserName=f"bench-user-{i:03d}")

    def group(i: int) -> None:
        ec2 = client("ec2", REGIONS[i % len(REGIONS)])
        sg = ec2.create_security_group(GroupName=f"bench-sg-{i:03d}", Description="bench")
        if i % 3 == 0:
            ec2.authorize_security_group_ingress(
                GroupId=sg["GroupId"],
                IpProtocol="tcp",
                FromPort=22,
                ToPort=22,
                CidrIp="0.0.0.0/0",
            )

    def volume(i: int) -> None:
        region = REGIONS[i % len(REGIONS)]
        client("ec2", region).create_volume(
            AvailabilityZone=f"{region}a", Size=8, Encrypted=bool(i % 2)
        )

    def key(i: int) -> None:
        kms = client("kms", REGIONS[i % len(REGIONS)])
        created = kms.create_key(Description=f"bench-key-{i}")["KeyMetadata"]["KeyId"]
        if i % 2:
            kms.enable_key_rotation(KeyId=created)

    counts = {
        "buckets": args.buckets,
        "users": args.users,
        "security_groups": args.security_groups,
        "volumes": args.volumes,
        "kms_keys": args.kms_keys,
    }
    work: list[tuple[Callable[[int], None], int]] = [
        (bucket, args.buckets),
        (user, args.users),
        (group, args.security_groups),
        (volume, args.volumes),
        (key, args.kms_keys),
    ]
    with ThreadPoolExecutor(16) as pool:
        for func, n in work:
            list(pool.map(func, range(n)))
    # moto adds AWS-managed keys (aws/ebs for encrypted volumes): count what ListKeys shows
    counts["kms_keys"] = sum(
        len(k) for r in REGIONS for k in [client("kms", r).list_keys(Limit=1000)["Keys"]]
    )
    return counts


_BLOCK = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def run_annexa(endpoint: str, data_dir: Path, max_attempts: int | None) -> tuple[float, str]:
    exe = shutil.which("annexa", path=str(Path(sys.executable).parent)) or "annexa"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANNEXA_"))}
    env |= {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGIONS[0],
        "ANNEXA_DATA_DIR": str(data_dir),
        "ANNEXA_AWS__REGIONS": json.dumps(list(REGIONS)),
        "HOME": str(data_dir),
    }
    if max_attempts:
        env["ANNEXA_AWS__MAX_ATTEMPTS"] = str(max_attempts)
    started = time.perf_counter()
    done = subprocess.run(
        [exe, "--log-format", "json", "run", "--provider", "aws", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"annexa run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed, done.stderr


#: Per-resource getters: operation -> which seeded count (plus the demo-free baseline of 0).
PER_RESOURCE = {
    "GET /<bucket>?encryption": "buckets",
    "GET /<bucket>?publicAccessBlock": "buckets",
    "GET /<bucket>?policy": "buckets",
    "GET /<bucket>?versioning": "buckets",
    "GET /<bucket>?logging": "buckets",
    "GET /<bucket>?tagging": "buckets",
    "ListAttachedUserPolicies": "users",
    "ListUserPolicies": "users",
    "ListGroupsForUser": "users",
    "ListAccessKeys": "users",
    "DescribeKey": "kms_keys",
    "GetKeyRotationStatus": "kms_keys",
    "ListResourceTags": "kms_keys",
}


def report(keys: list[tuple[str, ...]], counts: dict[str, int]) -> tuple[int, int, list[str]]:
    """Print requests per operation beside the expected count; return totals and repeats."""
    per_op = Counter((k[0], k[2]) for k in keys)
    distinct_per_op = Counter((k[0], k[2]) for k in set(keys))
    repeated = [f"{n}x {k[:6]}" for k, n in Counter(keys).items() if n > 1]
    expected_total = 0
    print(f"{'service':<14} {'operation':<36} {'requests':>9} {'expected':>9}")
    for (service, op), n in sorted(per_op.items()):
        kind = PER_RESOURCE.get(op)
        expected = counts[kind] if kind else distinct_per_op[(service, op)]
        expected_total += expected
        flag = "" if n == expected else "  <-- differs"
        label = f"{expected}" + (f" ({kind})" if kind else "")
        print(f"{service:<14} {op:<36} {n:>9} {label:>9}{flag}")
    return len(keys), expected_total, repeated


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {mem:.0f} GB RAM, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, boto3 {boto3.__version__}"
    )


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--buckets", type=int, default=1000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--security-groups", type=int, default=300)
    parser.add_argument("--volumes", type=int, default=200)
    parser.add_argument("--kms-keys", type=int, default=100)
    parser.add_argument(
        "--max-attempts", type=int, default=None, help="ANNEXA_AWS__MAX_ATTEMPTS (default 10)"
    )
    args = parser.parse_args(list(argv) if argv is not None else None)

    endpoint, log, server = start_server()
    started = time.perf_counter()
    counts = seed(endpoint, args)
    print(f"seeded {counts} in {time.perf_counter() - started:.1f} s")
    times = []
    runs: list[list[tuple[str, ...]]] = []
    errors = ""
    for i in range(args.repeat):
        log.keys = []
        log.recording = True
        with tempfile.TemporaryDirectory(prefix="annexa-bench-") as tmp:
            elapsed, stderr = run_annexa(endpoint, Path(tmp), args.max_attempts)
        log.recording = False
        runs.append(list(log.keys))
        times.append(elapsed)
        finished = [json.loads(x) for x in stderr.splitlines() if '"run finished"' in x]
        errors = json.dumps({k: v for k, v in finished[-1].items() if k not in ("run_id",)})
        print(f"run {i + 1}: {elapsed:.1f} s, {len(log.keys)} requests; {errors}")
    server.shutdown()

    total, expected, repeated = report(runs[0], counts)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print()
    print(f"requests per run: {total} (expected {expected})")
    print(f"repeated (operation, arguments) in a run: {len(repeated)}")
    for line in repeated[:20]:
        print("  ", line)
    print(
        f"wall time, median of {args.repeat}: {statistics.median(times):.1f} s "
        f"(runs: {', '.join(f'{t:.1f}' for t in times)})"
    )
    print(f"peak RSS of the annexa process: {peak_kib / 1024:.0f} MB")
    print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
