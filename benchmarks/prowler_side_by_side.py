"""annexa and Prowler side by side on the same simulated AWS estate (a moto server on
127.0.0.1), in several sizes: wall time, peak RSS, requests counted on the server, and recall
of the misconfigurations planted in the estate.

The estate (size 1; size N multiplies every count): 60 S3 buckets, 41 IAM users, 60 security
groups, 30 EBS volumes and 15 KMS keys over three regions. Planted, one resource each unless
said: buckets without a bucket-level public access block, without versioning, without access
logging, without a TLS-only policy (every fifth bucket each; the fifth is clean); no
account-level public access block; security groups open to the internet on port 22 (every
third); unencrypted volumes (every other); EBS encryption by default off (each region); KMS
keys without rotation (every third); users with AdministratorAccess attached directly (every
fourth; the others get their permissions through a group); a weak password policy; no
CloudTrail trail. Recall is the share of planted misconfigurations that a tool reports as a
failing finding (on the concept's check, naming the resource), over the concepts both check.

annexa runs at its defaults (``annexa run --provider aws``, every AWS check, the three
regions); Prowler runs ``--service s3 iam ec2 kms cloudtrail --scan-unused-services`` (so it judges
unattached security groups too) in the same regions with one try per call, installed
by this script in its own virtualenv (``--prowler-venv``). The tools run alternately, each
``--repeat`` times per size, each in a fresh data/output directory; medians are printed.

    .venv/bin/python benchmarks/prowler_side_by_side.py --sizes 1 3 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.aws_scan_bench import machine
from storage import EvidenceStore
from tests.aws.moto_server import start_server

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
ACCOUNT = "123456789012"  # moto's default account
PROWLER_VERSION = "5.46.0"
PROWLER_SERVICES = ("s3", "iam", "ec2", "kms", "cloudtrail")
BASE = {"buckets": 60, "users": 41, "security_groups": 60, "volumes": 30, "kms_keys": 15}
#: concept -> (annexa check ids, Prowler check ids) that report it
CONCEPTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "s3 bucket public access block": (
        frozenset({"aws.s3.public_access_blocked"}),
        frozenset({"s3_bucket_level_public_access_block"}),
    ),
    "s3 versioning": (
        frozenset({"aws.s3.versioning_enabled"}),
        frozenset({"s3_bucket_object_versioning"}),
    ),
    "s3 access logging": (
        frozenset({"aws.s3.access_logging_enabled"}),
        frozenset({"s3_bucket_server_access_logging_enabled"}),
    ),
    "s3 tls-only policy": (
        frozenset({"aws.s3.tls_only_policy"}),
        frozenset({"s3_bucket_secure_transport_policy"}),
    ),
    "s3 account public access block": (
        frozenset({"aws.s3.account_public_access_block"}),
        frozenset({"s3_account_level_public_access_blocks"}),
    ),
    "ssh open to the internet": (
        frozenset({"aws.ec2.no_admin_ports_open_to_internet"}),
        frozenset({"ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22"}),
    ),
    "ebs volume unencrypted": (
        frozenset({"aws.ec2.ebs_volumes_encrypted"}),
        frozenset({"ec2_ebs_volume_encryption"}),
    ),
    "ebs encryption by default": (
        frozenset({"aws.ec2.ebs_encryption_by_default"}),
        frozenset({"ec2_ebs_default_encryption"}),
    ),
    "kms key rotation": (
        frozenset({"aws.kms.key_rotation_enabled"}),
        frozenset({"kms_cmk_rotation_enabled"}),
    ),
    "admin policy on a user": (
        frozenset({"aws.iam.no_admin_policy_on_users", "aws.iam.users_permissions_via_groups"}),
        frozenset(
            {"iam_user_administrator_access_policy", "iam_policy_attached_only_to_group_or_roles"}
        ),
    ),
    "weak password policy": (
        frozenset({"aws.iam.password_policy_strong"}),
        frozenset({"iam_password_policy_minimum_length_14"}),
    ),
    "no multi-region trail": (
        frozenset({"aws.cloudtrail.multi_region_logging"}),
        frozenset({"cloudtrail_multi_region_enabled"}),
    ),
}
_BLOCK = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
_ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True)
class Planted:
    concept: str
    token: str  # a resource id the failing finding names (bucket name, sg-..., key id, ...)
    region: str | None = None  # where a regional finding is (token is the account id)


@dataclass
class Outcome:
    tool: str
    wall: float
    peak_mib: float
    requests: int
    cpu: float = 0.0  # user + system seconds of the tool's process tree
    failing: set[tuple[str, str]] = field(default_factory=set)  # (check id, resource)


# -- the estate ------------------------------------------------------------------------------


def seed(endpoint: str, size: int) -> list[Planted]:
    """Create the estate of ``size`` with boto3 against the server; return what is planted."""
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGIONS[0]
    )
    lock = threading.Lock()
    planted: list[Planted] = []

    def client(service: str, region: str = REGIONS[0]) -> Any:
        with lock:
            return session.client(service, region_name=region, endpoint_url=endpoint)

    def plant(concept: str, token: str, region: str | None = None) -> None:
        with lock:
            planted.append(Planted(concept, token, region))

    client("s3").create_bucket(Bucket="bench-access-logs")
    client("s3").put_bucket_acl(Bucket="bench-access-logs", ACL="log-delivery-write")

    def bucket(i: int) -> None:
        s3, name, flaw = client("s3"), f"bench-bucket-{i:04d}", i % 5
        s3.create_bucket(Bucket=name)
        if flaw == 0:
            plant("s3 bucket public access block", name)
        else:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration={k: True for k in _BLOCK}
            )
        if flaw == 1:
            plant("s3 versioning", name)
        else:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if flaw == 2:
            plant("s3 access logging", name)
        else:
            s3.put_bucket_logging(
                Bucket=name,
                BucketLoggingStatus={
                    "LoggingEnabled": {"TargetBucket": "bench-access-logs", "TargetPrefix": name}
                },
            )
        if flaw == 3:
            plant("s3 tls-only policy", name)
        else:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(_tls_only(name)))

    def user(i: int) -> None:
        iam, name = client("iam"), f"bench-user-{i:03d}"
        iam.create_user(UserName=name)
        if i % 4 == 0:
            iam.attach_user_policy(UserName=name, PolicyArn=_ADMIN)
            plant("admin policy on a user", name)
        else:
            iam.add_user_to_group(GroupName="bench-admins", UserName=name)

    def group(i: int) -> None:
        region = REGIONS[i % len(REGIONS)]
        ec2 = client("ec2", region)
        sg = ec2.create_security_group(GroupName=f"bench-sg-{i:03d}", Description="bench")
        if i % 3 == 0:
            ec2.authorize_security_group_ingress(
                GroupId=sg["GroupId"], IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="0.0.0.0/0"
            )
            plant("ssh open to the internet", sg["GroupId"])

    def volume(i: int) -> None:
        region = REGIONS[i % len(REGIONS)]
        created = client("ec2", region).create_volume(
            AvailabilityZone=f"{region}a", Size=8, Encrypted=bool(i % 2)
        )
        if not i % 2:
            plant("ebs volume unencrypted", created["VolumeId"])

    def key(i: int) -> None:
        kms = client("kms", REGIONS[i % len(REGIONS)])
        created = kms.create_key(Description=f"bench-key-{i}")["KeyMetadata"]["KeyId"]
        if i % 3 == 0:
            plant("kms key rotation", created)
        else:
            kms.enable_key_rotation(KeyId=created)

    iam = client("iam")
    iam.create_group(GroupName="bench-admins")
    iam.attach_group_policy(GroupName="bench-admins", PolicyArn=_ADMIN)
    iam.update_account_password_policy(MinimumPasswordLength=8)
    plant("weak password policy", ACCOUNT)
    plant("no multi-region trail", ACCOUNT)
    plant("s3 account public access block", ACCOUNT)
    for region in REGIONS:
        plant("ebs encryption by default", ACCOUNT, region)
    work: list[tuple[Callable[[int], None], int]] = [
        (bucket, BASE["buckets"] * size),
        (user, BASE["users"] * size),
        (group, BASE["security_groups"] * size),
        (volume, BASE["volumes"] * size),
        (key, BASE["kms_keys"] * size),
    ]
    with ThreadPoolExecutor(16) as pool:
        for func, n in work:
            list(pool.map(func, range(n)))
    return planted


def _tls_only(bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


# -- the tools -------------------------------------------------------------------------------


def aws_env(endpoint: str, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANNEXA_"))}
    return env | {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGIONS[0],
        "HOME": str(home),
    }


def timed(
    command: list[str], env: dict[str, str], workdir: Path
) -> tuple[float, float, float, str]:
    """Run ``command`` under GNU time: (wall s, peak RSS MiB, CPU s user+sys, stderr tail)."""
    stats = workdir / "time.txt"
    started = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M %U %S", "-o", str(stats), *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        cwd=workdir,
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1, 3):  # annexa: 0; prowler: 3 when findings fail
        raise SystemExit(f"{command[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    peak, user, system = stats.read_text().split()[-3:]
    return wall, int(peak) / 1024, float(user) + float(system), done.stderr[-2000:]


def run_annexa(endpoint: str, workdir: Path) -> Outcome:
    exe = str(Path(sys.executable).parent / "annexa")
    env = aws_env(endpoint, workdir) | {
        "ANNEXA_DATA_DIR": str(workdir / "data"),
        "ANNEXA_AWS__REGIONS": json.dumps(list(REGIONS)),
    }
    wall, peak, cpu, _ = timed([exe, "run", "--provider", "aws", "--format", "json"], env, workdir)
    store = EvidenceStore.open(f"sqlite:///{workdir / 'data' / 'annexa.sqlite'}")
    try:
        failing = {
            (r.check_id, f["resource"])
            for r in store.history(limit=None)
            for f in r.findings
            if not f["passed"]
        }
    finally:
        store.close()
    return Outcome("annexa", wall, peak, 0, cpu, failing)


def run_prowler(endpoint: str, workdir: Path, venv: Path) -> Outcome:
    command = [
        str(venv / "bin" / "prowler"),
        "aws",
        "--service",
        *PROWLER_SERVICES,
        "--region",
        *REGIONS,
        "--output-formats",
        "json-ocsf",
        "--output-directory",
        str(workdir / "out"),
        "--output-filename",
        "findings",
        "--aws-retries-max-attempts",
        "1",
        "--scan-unused-services",  # judge every security group, attached or not (as annexa)
        "--no-banner",
        "--no-color",
    ]
    wall, peak, cpu, stderr = timed(command, aws_env(endpoint, workdir), workdir)
    found = workdir / "out" / "findings.ocsf.json"
    if not found.exists():
        raise SystemExit(f"prowler wrote no findings:\n{stderr}")
    failing = {
        (item["metadata"]["event_code"], resource.get("uid", ""))
        for item in json.loads(found.read_text() or "[]")
        if item.get("status_code") == "FAIL"
        for resource in item.get("resources", [{}])
    }
    return Outcome("prowler", wall, peak, 0, cpu, failing)


def ensure_prowler(venv: Path) -> str | None:
    """Install Prowler into its own virtualenv unless there; the reason when it cannot be."""
    if (venv / "bin" / "prowler").exists():
        return None
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "-q", f"prowler=={PROWLER_VERSION}"],
            check=True,
            timeout=3600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        return f"prowler {PROWLER_VERSION} could not be installed into {venv}: {exc}"
    return None


# -- scoring and report ----------------------------------------------------------------------


def recall(outcome: Outcome, planted: Iterable[Planted]) -> tuple[int, int]:
    """(planted misconfigurations the tool reported failing, all planted)."""
    column = 0 if outcome.tool == "annexa" else 1
    hits = total = 0
    for item in planted:
        checks = CONCEPTS[item.concept][column]
        total += 1
        hits += any(
            check in checks and item.token in resource and (item.region or "") in resource
            for check, resource in outcome.failing
        )
    return hits, total


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--prowler-venv",
        type=Path,
        default=Path.home() / ".cache" / "annexa-bench" / f"prowler-{PROWLER_VERSION}",
    )
    parser.add_argument("--annexa-only", action="store_true", help="do not run Prowler")
    args = parser.parse_args(argv)

    why_not = None if args.annexa_only else ensure_prowler(args.prowler_venv)
    if why_not:
        print(f"NOTE: {why_not}; measuring annexa alone")
    tools = ["annexa"] if args.annexa_only or why_not else ["annexa", "prowler"]
    print(f"machine: {machine()}; load average at start: {os.getloadavg()}")
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"  # AdministratorAccess exists
    for size in args.sizes:
        endpoint, log, server = start_server()
        # moto's backends live in this process: the size before's estate goes first
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", b""))
        started = time.perf_counter()
        planted = seed(endpoint, size)
        print(
            f"\nsize {size}: seeded in {time.perf_counter() - started:.0f} s, "
            f"{len(planted)} planted misconfigurations"
        )
        results: dict[str, list[Outcome]] = {tool: [] for tool in tools}
        for i in range(args.repeat):
            for tool in tools if i % 2 == 0 else reversed(tools):  # alternate who goes first
                with tempfile.TemporaryDirectory(prefix=f"bench-{tool}-") as tmp:
                    log.keys = []
                    log.recording = True
                    if tool == "annexa":
                        outcome = run_annexa(endpoint, Path(tmp))
                    else:
                        outcome = run_prowler(endpoint, Path(tmp), args.prowler_venv)
                    log.recording = False
                    outcome.requests = len(log.keys)
                hits, total = recall(outcome, planted)
                results[tool].append(outcome)
                print(
                    f"  {tool:<8} run {i + 1}: {outcome.wall:6.1f} s  {outcome.cpu:6.1f} s CPU"
                    f"  {outcome.peak_mib:6.0f} MiB"
                    f"  {outcome.requests:6d} requests  recall {hits}/{total}"
                    f"  (load {os.getloadavg()[0]:.1f})"
                )
        server.shutdown()
        report(size, results, planted)


def report(size: int, results: dict[str, list[Outcome]], planted: list[Planted]) -> None:
    medians = {
        tool: (
            statistics.median(o.wall for o in runs),
            statistics.median(o.cpu for o in runs),
            statistics.median(o.peak_mib for o in runs),
            statistics.median(o.requests for o in runs),
            recall(runs[-1], planted),
        )
        for tool, runs in results.items()
    }
    print(f"size {size}, medians of {len(next(iter(results.values())))} runs:")
    print(f"  {'tool':<8} {'wall s':>8} {'CPU s':>7} {'peak MiB':>9} {'requests':>9} {'recall':>9}")
    for tool, (wall, cpu, peak, requests, (hits, total)) in medians.items():
        print(f"  {tool:<8} {wall:8.1f} {cpu:7.1f} {peak:9.0f} {requests:9.0f} {hits:>4}/{total}")
    if "prowler" in medians:
        (aw, _, am, ar, _), (pw, _, pm, pr, _) = medians["annexa"], medians["prowler"]
        print(
            f"  prowler/annexa: wall {pw / aw:.1f}x, peak RSS {pm / am:.1f}x, "
            f"requests {pr / max(ar, 1):.1f}x"
        )
    missed: dict[str, list[str]] = {}
    for tool, runs in results.items():
        for item in planted:
            if not recall(Outcome(tool, 0, 0, 0, 0, runs[-1].failing), [item])[0]:
                missed.setdefault(tool, []).append(f"{item.concept}: {item.token}")
    for tool, items in missed.items():
        print(f"  {tool} missed {len(items)}: {'; '.join(items[:8])}")
        column = 0 if tool == "annexa" else 1
        concepts = {item.split(":")[0] for item in items}
        for concept in sorted(concepts):
            seen = sorted(r for c, r in results[tool][-1].failing if c in CONCEPTS[concept][column])
            print(f"    failing on {concept}: {seen[:3]}")


if __name__ == "__main__":
    main()
