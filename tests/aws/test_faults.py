"""Faults a real AWS estate produces: throttling (retried), a denied API (only its checks
ERROR, naming the action), an unreachable endpoint and expired credentials (the run still
finishes, is recorded as partial, and exits normally). Errors are real wire-format bodies
served from botocore ``before-send`` hooks; the real client parses and retries them."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from collector.aws.accounts import resolve_accounts
from collector.aws.demo_estate import install_wire_hooks, seed
from collector.registry import Registry, load_registry
from collector.runner import Runner
from collector.settings import AwsSettings
from storage import EvidenceStore
from tests.aws.console import annexa, annexa_env
from tests.aws.errors import serve_error
from tests.aws.wire import ACCOUNT

REGIONS = ["us-east-1", "eu-west-1"]
#: Standard retries (no adaptive rate limiting): the same retry decisions, shorter waits.
FAST_RETRIES = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=2)
#: operation -> (code, HTTP status) as each protocol's service really throttles
THROTTLES = {
    "iam.GetAccountPasswordPolicy": ("Throttling", 400),  # query
    "ec2.GetEbsEncryptionByDefault": ("RequestLimitExceeded", 503),  # ec2
    "cloudtrail.DescribeTrails": ("ThrottlingException", 400),  # json
    "kms.ListKeys": ("ThrottlingException", 400),  # json
    "s3.ListBuckets": ("SlowDown", 503),  # rest-xml
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(entry_point_packs=False)


@pytest.fixture
def estate(session: boto3.Session) -> boto3.Session:
    seed(session)
    install_wire_hooks(session, account=ACCOUNT)
    return session


@pytest.fixture
def evidence(sqlite_url: str) -> Any:
    store = EvidenceStore.open(sqlite_url)
    yield store
    store.close()


def run(session: boto3.Session, registry: Registry, store: EvidenceStore) -> dict[tuple, Any]:
    """Run every AWS check; (check, target) -> (status, findings, error)."""
    accounts = resolve_accounts(AwsSettings(regions=REGIONS), session, config=FAST_RETRIES)
    result = Runner(registry, store).run(registry.select(provider="aws"), accounts)
    return {(r.check_id, r.target_key): (r.status, r.findings, r.error) for r in result.records}


def test_throttling_bursts_are_retried_and_change_nothing(estate, registry, evidence) -> None:
    clean = run(estate, registry, evidence)
    served: Counter[str] = Counter()
    lock = threading.Lock()

    def first_two(event: str):
        def when(_: Any) -> bool:
            with lock:
                served[event] += 1
                return served[event] <= 2  # two throttled attempts, then the real answer

        return when

    for operation, (code, status) in THROTTLES.items():
        event = f"before-send.{operation}"
        serve_error(estate, event, code, "Rate exceeded", status=status, when=first_two(event))

    started = time.monotonic()
    throttled = run(estate, registry, evidence)
    elapsed = time.monotonic() - started

    assert throttled == clean
    # every burst was served and then retried past (regional operations: once per region)
    assert all(n >= 3 for n in served.values()), served
    assert len(served) == len(THROTTLES)
    assert elapsed < 30


@pytest.mark.parametrize(
    ("event", "code", "status", "message", "action"),
    [
        (
            "ec2.DescribeVolumes",
            "UnauthorizedOperation",
            403,
            "You are not authorized to perform this operation. User: "
            f"arn:aws:iam::{ACCOUNT}:user/audit is not authorized to perform: "
            "ec2:DescribeVolumes because no identity-based policy allows the "
            "ec2:DescribeVolumes action",
            "ec2:DescribeVolumes",
        ),
        # S3 says only "Access Denied": the action is named from the call
        (
            "s3.GetBucketEncryption",
            "AccessDenied",
            403,
            "Access Denied",
            "s3:GetEncryptionConfiguration",
        ),
    ],
)
def test_a_denied_api_fails_only_the_checks_that_need_it(
    estate, registry, evidence, event, code, status, message, action
) -> None:
    clean = run(estate, registry, evidence)
    serve_error(estate, f"before-send.{event}", code, message, status=status)

    denied = run(estate, registry, evidence)

    operation = event.split(".")[1]
    needing = {
        c.id for c in registry.select(provider="aws") if action in registry.permissions_for(c)
    }
    assert needing
    changed = {key for key in clean if denied[key] != clean[key]}
    assert {check for check, _ in changed} == needing
    for key in changed:
        assert denied[key] == ("error", [], f"access denied: {action} ({code} on {operation})")


def test_expired_credentials_fail_the_account_and_the_run(
    session: boto3.Session, registry, evidence
) -> None:
    serve_error(
        session,
        "before-send.sts.GetCallerIdentity",
        "ExpiredToken",
        "The security token included in the request is expired",
        status=403,
    )
    (account,) = resolve_accounts(AwsSettings(regions=REGIONS), session, config=FAST_RETRIES)

    result = Runner(registry, evidence).run(registry.select(provider="aws"), [account])

    assert account.error == (
        "cannot access AWS account default: credentials expired (ExpiredToken on "
        "GetCallerIdentity): renew them (aws sso login, a new role session)"
    )
    assert {(r.status, r.error) for r in result.records} == {("error", account.error)}
    assert result.outcome == "failed"  # every record errored
    (stored,) = evidence.runs()
    assert stored.outcome == "failed"


def test_credentials_expiring_mid_run_fail_the_checks_that_call_afterwards(
    estate, registry, evidence
) -> None:
    serve_error(
        estate,
        "before-send.s3.ListBuckets",
        "ExpiredToken",
        "The provided token has expired.",
        status=400,
    )

    records = run(estate, registry, evidence)

    s3 = {k: v for k, v in records.items() if k[0].startswith("aws.s3.")}
    assert s3 and {v[2] for v in s3.values()} == {
        "credentials expired (ExpiredToken on ListBuckets): renew them (aws sso login, a new "
        "role session)"
    }
    assert any(v[0] != "error" for k, v in records.items() if not k[0].startswith("aws.s3."))


@pytest.fixture
def refusing_endpoint() -> Iterator[str]:
    """An endpoint that refuses connections: a port bound but not listening, held for the
    whole test so no other process can take it meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_unreachable_endpoint_errors_every_check_and_the_run_exits_normally(
    tmp_path, refusing_endpoint
) -> None:
    endpoint = refusing_endpoint
    env = annexa_env(endpoint, tmp_path, AWS__MAX_ATTEMPTS="2")

    done = annexa("run", "--provider", "aws", "--format", "json", env=env)

    assert done.returncode == 0, done.stderr
    url = f"sqlite:///{tmp_path / 'annexa.sqlite'}"
    (stored,) = json.loads(annexa("--database", url, "runs", "--format", "json", env=env).stdout)
    assert stored["outcome"] == "failed"  # every record is an ERROR
    assert stored["records"] == stored["planned"] > 0
    shown = annexa(
        "--database",
        url,
        "evidence",
        "show",
        "--check",
        "aws.s3.default_encryption",
        "--format",
        "json",
        "--full",
        env=env,
    )
    (record,) = json.loads(shown.stdout)
    assert record["status"] == "error"
    # AWS__MAX_ATTEMPTS=2: two tries (the second within the time budget), both named
    assert re.fullmatch(
        rf"cannot access AWS account default: endpoint unreachable: {endpoint}/ "
        r"\(gave up after 2 tries in [0-9.]+ s\)",
        record["error"],
    ), record["error"]
