"""The README's first command, through the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def annexa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("annexa", path=str(Path(sys.executable).parent)) or "annexa"
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=120)


def test_demo_shows_every_state_and_the_command_to_see_it_again(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ANNEXA_"))}
    env |= {"ANNEXA_DATA_DIR": str(tmp_path), "HOME": str(tmp_path)}
    # one demo run: --fail-on gates CI with exit code 1 and names the controls, and the
    # status is printed all the same
    done = annexa("demo", "--fail-on", "failing", "--format", "json", env=env)
    assert done.returncode == 1 and "A.6.5," in done.stderr, done.stderr
    rows = {row["control"]: row for row in json.loads(done.stdout)}
    states = {control: row["state"] for control, row in rows.items()}
    assert len(states) == 93
    assert states["A.8.24"] == "failing"
    assert states["A.8.22"] == "accepted"  # default security groups: an exception + the design
    assert states["A.5.1"] == "attested"  # a manual policy document
    assert states["A.5.28"] == "passing"  # supporting check passing + manual procedure
    assert states["A.8.14"] == "manual"  # 0 DB instances: nothing to judge
    assert any("found nothing to judge" in r for r in rows["A.8.14"]["reasons"])
    assert states["A.5.9"] == "manual"  # supporting checks only: asks for manual evidence
    assert any("only support this control" in r for r in rows["A.5.9"]["reasons"])
    assert "not_applicable" in states.values()
    assert (tmp_path / "demo.sqlite").is_file()

    # The command the demo prints shows the demo's controls.
    lines = [line.strip() for line in done.stderr.splitlines()]
    [command] = [line for line in lines if line.startswith("annexa --config ")]
    assert command.split()[2] == str(tmp_path / "demo.yaml")
    assert " status --soa " in command and command.endswith("soa.example.yaml")
    again = annexa(*command.split()[1:], "--format", "json", env=env)
    assert again.returncode == 0, again.stderr
    assert {r["control"]: r["state"] for r in json.loads(again.stdout)} == states

    # The evidence behind it is in the demo database, sealed and chained.
    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    shown = annexa(
        "--database",
        url,
        "evidence",
        "show",
        "--control",
        "A.8.24",
        "--limit",
        "200",
        "--format",
        "json",
        "--full",
        env=env,
    )
    assert shown.returncode == 0, shown.stderr
    records = json.loads(shown.stdout)
    mapped = annexa(
        "checks", "--provider", "aws", "--control", "A.8.24", "--format", "json", env=env
    )
    mapped_ids = {row["id"] for row in json.loads(mapped.stdout)}
    assert {"aws.s3.default_encryption", "aws.ec2.ebs_encryption_by_default"} <= mapped_ids
    assert {r["check"] for r in records} == mapped_ids
    assert all(len(r["hash"]) == 64 and len(r["previous_hash"]) == 64 for r in records)
    ebs = {
        r["target"]: r["status"]
        for r in records
        if r["check"] == "aws.ec2.ebs_encryption_by_default"
    }
    assert ebs == {"aws:123456789012:us-east-1": "pass", "aws:123456789012:eu-west-1": "fail"}

    # The recorded Okta org says bob left; the leavers check finds what he still holds in the
    # simulated AWS account (IAM, Identity Center) and the recorded GitHub organisation.
    assert states["A.6.5"] == "failing"
    leavers = annexa(
        "--database", url, "evidence", "show", "--check", "identity.leavers.deprovisioned",
        "--format", "json", "--full", env=env,
    )  # fmt: skip
    (record,) = json.loads(leavers.stdout)
    assert record["target"] == "identity:okta" and record["status"] == "fail"
    assert [(f["resource"], f["passed"]) for f in record["findings"]] == [
        ("bob@acme.example", False)
    ]
    assert record["findings"][0]["message"] == (
        "SUSPENDED in okta; still has: aws:123456789012 iam bob (console sign-in); "
        "aws:123456789012 identity_center bob@acme.example (ReadOnlyAccess in 123456789012); "
        "github:acme github bob-acme (member)"
    )
    assert {"A.8.4", "A.8.28", "A.8.32"} <= {c for c, s in states.items() if s == "failing"}
