"""Status judged over the checks in scope, through the CLI: an AWS-only organisation, bad
mapping overrides, and the example SoA refused where it would mislead."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collector.app import load_workspace
from collector.providers import RESOLVERS, configured_providers, provider_configured
from collector.settings import Settings, load_settings
from storage import EvidenceStore
from tests.store.test_store import evidence

UNCONFIGURED = sorted(set(RESOLVERS) - {"aws"})


def test_every_provider_says_when_it_is_configured(tmp_path) -> None:
    assert set(provider_configured(Settings(data_dir=tmp_path))) == set(RESOLVERS)
    assert configured_providers(Settings(data_dir=tmp_path)) == {"aws"}  # the default chain
    settings = Settings(
        data_dir=tmp_path,
        aws={"enabled": False},
        azure={"tenants": [{"tenant_id": "t"}]},
        okta={"org_url": "https://acme.okta.com"},
    )
    assert configured_providers(settings) == {"azure", "entra", "intune", "okta"}


def _aws_only(tmp_path: Path) -> tuple[Path, str, dict]:
    """An AWS-only config and a store where every AWS check passed a minute ago."""
    config = tmp_path / "annexa.yaml"
    config.write_text("aws: {regions: [eu-west-1]}\n")
    url = f"sqlite:///{tmp_path / 'aws.sqlite'}"
    workspace = load_workspace(load_settings(config))
    aws = [c for c in workspace.registry.checks.values() if c.provider == "aws"]
    now = datetime.now(UTC) - timedelta(minutes=1)
    with EvidenceStore.open(url) as store:
        run = store.start_run(started_at=now)
        store.append_many(evidence(run, check_id=c.id, at=now) for c in aws)
    pairs = {
        control: [
            workspace.mapping.pair(c.id, control).strength
            for c in aws
            if control in workspace.mapping.controls_for(c.id)
        ]
        for control in workspace.mapping.mapped_controls()
    }
    return config, url, {k: v for k, v in pairs.items() if v}


def test_aws_only_every_aws_evidenced_control_can_pass(annexa, tmp_path) -> None:
    config, url, aws_pairs = _aws_only(tmp_path)
    code, out, err = annexa("-c", str(config), "--database", url, "status", "-f", "json")
    assert code == 0, err
    rows = {r["control"]: r for r in json.loads(out)}
    sufficient = {c for c, strengths in aws_pairs.items() if "sufficient" in strengths}
    supporting = set(aws_pairs) - sufficient
    assert {"A.8.5", "A.8.24", "A.8.3", "A.8.15"} <= sufficient
    assert {c: rows[c]["state"] for c in sufficient} == dict.fromkeys(sufficient, "passing")
    # supporting-only controls ask for manual evidence, and pass once it is there
    assert {c: rows[c]["state"] for c in supporting} == dict.fromkeys(supporting, "manual")
    assert any("only support this control" in r for r in rows["A.5.28"]["reasons"])
    # no reason is about a check of a provider this organisation never configured
    for row in rows.values():
        for reason in row["reasons"]:
            assert not any(f" {p}." in f" {reason}" or f": {p}." in reason for p in UNCONFIGURED)
            assert not reason.startswith(("no_evidence", "error")), (row["control"], reason)
    policy = tmp_path / "procedure.txt"
    policy.write_text("log handling procedure\n")
    added = annexa(
        "-c", str(config), "--database", url, "evidence", "add", "--control", "A.5.28",
        "--file", str(policy), "--valid-for", "365d",
    )  # fmt: skip
    assert added[0] == 0, added[2]
    code, out, _ = annexa("-c", str(config), "--database", url, "status", "-f", "json")
    assert {r["control"]: r["state"] for r in json.loads(out)}["A.5.28"] == "passing"


def test_config_checks_and_command_options_narrow_the_scope(annexa, tmp_path) -> None:
    config, url, _ = _aws_only(tmp_path)
    config.write_text(config.read_text() + "exclude_checks: [aws.rds.storage_encrypted]\n")
    code, out, _ = annexa(
        "-c", str(config), "--database", url, "status", "-f", "json",
        "--check", "aws.s3.public_access_blocked",
    )  # fmt: skip
    rows = {r["control"]: r for r in json.loads(out)}
    assert rows["A.8.3"]["checks"] == ["aws.s3.public_access_blocked"]
    assert rows["A.8.3"]["state"] == "passing"
    assert rows["A.8.24"]["state"] == "manual"
    assert rows["A.8.24"]["reasons"][0].startswith("no mapped check is in scope: aws or azure")
    code, out, _ = annexa("-c", str(config), "--database", url, "status", "-f", "json")
    assert code == 0
    rows = {r["control"]: r for r in json.loads(out)}
    assert "aws.rds.storage_encrypted" not in rows["A.8.24"]["checks"]


def test_controls_shows_coverage_in_scope_and_in_the_catalogue(annexa, tmp_path) -> None:
    config, _, aws_pairs = _aws_only(tmp_path)
    code, out, _ = annexa("-c", str(config), "controls", "-f", "json")
    rows = {r["control"]: r for r in json.loads(out)}
    assert rows["A.8.1"]["automated"] is True and rows["A.8.1"]["in_scope"] is False
    assert rows["A.8.24"]["in_scope"] is True
    assert {c for c, r in rows.items() if r["in_scope"]} == set(aws_pairs)
    code, out, _ = annexa("-c", str(config), "controls")
    assert code == 0 and f"{len(aws_pairs)} in scope" in out


def test_mapping_override_with_an_unknown_strength_is_one_line_exit_2(annexa, tmp_path) -> None:
    override = tmp_path / "ours.yaml"
    override.write_text("aws.s3.public_access_blocked:\n  A.8.3: {strength: strong}\n")
    config = tmp_path / "annexa.yaml"
    config.write_text(f"mappings: [{override}]\n")
    url = f"sqlite:///{tmp_path / 'never.sqlite'}"
    code, out, err = annexa("-c", str(config), "--database", url, "run")
    assert code == 2 and out == ""
    assert err == (
        "annexa: error: ours.yaml: check 'aws.s3.public_access_blocked', control 'A.8.3': "
        "field 'strength': 'strong' is not one of sufficient, supporting\n"
    )
    assert not (tmp_path / "never.sqlite").exists()


def test_export_refuses_the_example_soa_and_a_bad_period(annexa, tmp_path) -> None:
    out_file = tmp_path / "audit.zip"
    base = ["export", "--from", "2024-05-01", "--to", "2024-05-02", "--out", str(out_file)]
    code, _, err = annexa(*base)
    assert code == 2 and err.count("\n") == 1
    assert "refusing the fictional example SoA here: pass --example-soa" in err
    assert not out_file.exists()
    code, _, err = annexa(
        "export", "--from", "2024-05-02", "--to", "2024-05-01", "--out", str(out_file),
        "--example-soa",
    )  # fmt: skip
    assert code == 2 and "empty or inverted period" in err and err.count("\n") == 1
    assert not out_file.exists()


def test_daemon_refuses_the_example_soa(annexa) -> None:
    code, _, err = annexa("daemon")
    assert code == 2 and err.count("\n") == 1 and "pass --example-soa" in err
