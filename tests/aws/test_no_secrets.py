"""No secret planted in the AWS estate reaches the evidence store, the logs or the evidence
shown to a user: ``annexa run`` (every AWS check, the real console script) against a moto
server seeded with secrets where real estates keep them."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

import cli
from collector.aws.demo_estate import seed
from collector.registry import load_registry
from tests.aws.console import annexa, annexa_env

PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAq7BFUpkGp3+Nw8Tzv5ZmSwbJ6Vq4Ls0mZrXPlanted0Key0Body\n"
    "-----END RSA PRIVATE KEY-----\n"
)
PLANTED = {
    "lambda environment": "lambda-db-pass-Q7w9",
    "rds master password": "rds-master-pass-Z3x8",
    "secrets manager value": "sm-secret-value-K2v6",
    "tag value": "hunter2-tag-F5n1",
    "tag key/value": "tag-keyed-secret-M4b7",
    "user data private key": "MIIEowIBAAKCAQEAq7BFUpkGp3",
    # shapes detect-secrets knows, planted where free text lives (policies, tag values)
    "database URL password in a bucket policy": "Pg-url-pass-W8k2",
    "slack webhook": "https://hooks.slack.com/services/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4",
    "stripe live key": "sk_live_4eC39HqLyjWDarjtT1zdp7dcQ",
    "github token": "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",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbm5leGEtdGVzdCJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmU",
}


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def plant(endpoint: str) -> dict[str, str]:
    """Seed the demo estate plus secrets; returns what to look for (incl. a real key secret)."""
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    os.environ["AWS_ENDPOINT_URL"] = endpoint  # seed() makes its own clients
    try:
        seed(session)
    finally:
        del os.environ["AWS_ENDPOINT_URL"]

    def client(service: str):
        return session.client(service, endpoint_url=endpoint)

    iam = client("iam")
    key = iam.create_access_key(UserName="alice")["AccessKey"]
    role = iam.create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return 1\n")
    client("lambda").create_function(
        FunctionName="billing",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": {"DB_PASSWORD": PLANTED["lambda environment"]}},
    )
    tags = [
        {"Key": "note", "Value": f"password={PLANTED['tag value']}"},
        {"Key": "password", "Value": PLANTED["tag key/value"]},
    ]
    ec2 = client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        UserData=f"#!/bin/sh\ncat > /root/.ssh/id_rsa <<EOF\n{PRIVATE_KEY}EOF\n",
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
    )
    client("s3").put_bucket_tagging(Bucket="acme-app-logs", Tagging={"TagSet": tags})
    database_url = (
        f"postgres://app:{PLANTED['database URL password in a bucket policy']}@db:5432/app"
    )
    client("s3").put_bucket_policy(
        Bucket="acme-app-logs",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": "arn:aws:s3:::acme-app-logs/*",
                        "Condition": {
                            "StringNotEquals": {
                                "aws:Referer": [
                                    database_url,
                                    PLANTED["slack webhook"],
                                    f"stripe {PLANTED['stripe live key']}",
                                    f"deploy with {PLANTED['github token']} then",
                                    PLANTED["jwt"],
                                ]
                            }
                        },
                    }
                ],
            }
        ),
    )
    client("secretsmanager").create_secret(
        Name="prod/db", SecretString=PLANTED["secrets manager value"], Tags=tags
    )
    client("rds").create_db_instance(
        DBInstanceIdentifier="orders",
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="admin",
        MasterUserPassword=PLANTED["rds master password"],
        Tags=tags,
    )
    return PLANTED | {"iam access key secret": key["SecretAccessKey"]}


def database_text(path: Path) -> str:
    """Every value of every table, as text (blobs decoded)."""
    parts = []
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    parts.append(str(value))
    return "\n".join(parts)


def test_planted_secrets_never_reach_evidence_logs_or_output(
    endpoint, tmp_path, monkeypatch, capsys
) -> None:
    secrets = plant(endpoint)
    # moto server lacks some APIs (500s): retry them less
    env = annexa_env(endpoint, tmp_path, AWS__MAX_ATTEMPTS="2")

    done = annexa(
        "--log-format", "json", "-v", "run", "--provider", "aws", "--format", "json", env=env
    )

    assert done.returncode == 0, done.stderr
    assert '"run finished"' in done.stderr  # the JSON logs were captured
    database = tmp_path / "annexa.sqlite"
    stored = database_text(database)
    assert "aws.s3.default_encryption" in stored and len(stored) > 10_000
    # redaction keeps identifiers: an ARN's "secret:" is a resource type, not a secret
    assert "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-" in stored
    shown = []
    monkeypatch.setattr(sys, "argv", [])
    for spec in load_registry(entry_point_packs=False).select(provider="aws"):
        monkeypatch.setattr(
            sys,
            "argv",
            [
                "annexa",
                "--database",
                f"sqlite:///{database}",
                "evidence",
                "show",
                "--check",
                spec.id,
                "--full",
                "--format",
                "json",
            ],
        )
        with pytest.raises(SystemExit) as exited:
            cli.main()
        assert exited.value.code == 0
        shown.append(capsys.readouterr().out)
    output = "\n".join(shown)
    assert '"observations"' in output
    # the planted free text was collected and scanned, the secret alone replaced
    assert "aws:Referer" in stored, "bucket policy not collected"
    assert "deploy with [REDACTED] then" in stored, "policy text not scanned"
    package = tmp_path / "audit.zip"
    today = datetime.now(UTC).date()
    exported = annexa(
        "export",
        "--from",
        str(today - timedelta(days=1)),
        "--to",
        str(today + timedelta(days=1)),
        "--out",
        str(package),
        "--example-soa",
        env=env,
    )
    assert exported.returncode == 0, exported.stderr
    with zipfile.ZipFile(package) as z:
        packaged = "\n".join(
            z.read(n).decode("utf-8", "replace") for n in z.namelist() if not n.endswith(".xlsx")
        )
    for where, text in {
        "evidence store": stored,
        "logs": done.stderr,
        "run output": done.stdout,
        "evidence show --full": output,
        "export package": packaged,
    }.items():
        leaked = sorted(name for name, secret in secrets.items() if secret in text)
        assert leaked == [], f"{where} holds: {leaked}"
