"""``annexa run`` as a subprocess against a moto server on 127.0.0.1 (``AWS_ENDPOINT_URL``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer


@pytest.fixture
def moto_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # the server shares moto's in-process backends with every mock_aws test that ran before
    # in this worker: start from an empty estate
    httpx.post(f"{endpoint}/moto-api/reset", timeout=30).raise_for_status()
    yield endpoint
    server.stop()


def test_run_against_moto_server(moto_endpoint, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANNEXA_"))}
    env |= {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ANNEXA_DATA_DIR": str(tmp_path),
        "HOME": str(tmp_path),
        # moto serves no Access Analyzer (it answers 500): a short retry budget keeps that
        # cheap while a connection the busy test server resets is still tried again
        "ANNEXA_AWS__TRANSIENT_RETRY_SECONDS": "2",
        "ANNEXA_AWS__REGIONS": "session",  # one region keeps the run short
    }
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    s3 = session.client("s3", endpoint_url=moto_endpoint)
    s3.create_bucket(Bucket="open-bucket")
    s3.create_bucket(Bucket="closed-bucket")
    s3.put_public_access_block(
        Bucket="closed-bucket",
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )

    exe = shutil.which("annexa", path=str(Path(sys.executable).parent)) or "annexa"
    done = subprocess.run(
        [exe, "run", "--format", "json"], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr
    assert "example SoA" in done.stderr
    states = {row["control"]: row for row in json.loads(done.stdout)}
    assert states["A.8.3"]["state"] == "failing"
    reasons = states["A.8.3"]["reasons"]
    assert any("1 of 2 buckets failing" in r for r in reasons), "\n".join(reasons)

    url = f"sqlite:///{tmp_path / 'annexa.sqlite'}"
    shown = subprocess.run(
        [
            exe,
            "--database",
            url,
            "evidence",
            "show",
            "--check",
            "aws.iam.root_mfa_enabled",
            "--format",
            "json",
            "--full",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (record,) = json.loads(shown.stdout)
    # moto's credential report has no root row: that is unknown, never a pass.
    assert record["status"] == "error" and "root" in record["error"]

    runs = subprocess.run(
        [exe, "--database", url, "runs", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (run,) = json.loads(runs.stdout)
    assert run["outcome"] == "partial" and run["records"] == run["planned"] >= 8


def test_run_summary_names_the_regions_audited(moto_endpoint, tmp_path):
    """Every enabled region is the default; the summary says which were audited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANNEXA_"))}
    env |= {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "ANNEXA_DATA_DIR": str(tmp_path),
        "HOME": str(tmp_path),
    }
    enabled = sorted(
        r["RegionName"]
        for r in boto3.client(
            "ec2",
            endpoint_url=moto_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).describe_regions()["Regions"]
    )
    exe = shutil.which("annexa", path=str(Path(sys.executable).parent)) or "annexa"
    done = subprocess.run(
        [exe, "run", "--check", "aws.ec2.ebs_encryption_by_default"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert len(enabled) > 10
    assert f"regions audited: aws 123456789012: {', '.join(enabled)}" in " ".join(
        done.stdout.split()
    )
    assert f"{len(enabled)} evidence records" in done.stdout
