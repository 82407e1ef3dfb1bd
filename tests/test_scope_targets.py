"""A target removed from the config leaves status: ``status``, ``status --at``, ``export``, the
web console and ``report`` judge the same targets. Its history stays in the store and in
exports, and counts for the time it existed."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from collector.app import load_workspace
from collector.settings import Settings, load_settings
from collector.status import ControlState, Scope, evaluate, retire
from collector.web.app import create_app
from storage import EvidenceStore, NewEvidence

KEPT, REMOVED = "111111111111", "222222222222"
S3 = "aws.s3.public_access_blocked"  # sufficient evidence for A.8.3
LEAKY = "arn:aws:s3:::leaky"
H = timedelta(hours=1)


def _record(run: str, check: str, account: str, at: datetime) -> NewEvidence:
    failing = account == REMOVED and check == S3
    findings = [{"resource": LEAKY if failing else f"arn:{check}", "passed": not failing}]
    return NewEvidence(
        run_id=run,
        check_id=check,
        check_version=1,
        provider="aws",
        account=account,
        region="eu-west-1",
        collected_at=at,
        status="fail" if failing else "pass",
        summary="public access possible" if failing else "1 resource",
        findings=[f | {"message": ""} for f in findings],
        observations={},
    )


def _config(tmp_path: Path, *accounts: str) -> Path:
    arns = ", ".join(f"{{role_arn: 'arn:aws:iam::{a}:role/Audit'}}" for a in accounts)
    (tmp_path / "soa.yaml").write_text("controls:\n  - {control: A.8.3, applicable: yes}\n")
    config = tmp_path / "annexa.yaml"
    config.write_text(f"soa: soa.yaml\naws: {{accounts: [{arns}], regions: [eu-west-1]}}\n")
    return config


@pytest.fixture
def estate(tmp_path: Path) -> tuple[Path, str, datetime]:
    """Every AWS check of A.8.3, 26 h and 2 h ago, for both accounts: all pass on KEPT; S3
    fails on REMOVED. The config then names KEPT only."""
    config = _config(tmp_path, KEPT, REMOVED)
    url = f"sqlite:///{tmp_path / 'two.sqlite'}"
    checks = [c for c in load_workspace(load_settings(config)).mapping.checks_for("A.8.3")]
    checks = [c for c in checks if c.startswith("aws.")]
    now = datetime.now(UTC)
    with EvidenceStore.open(url) as store:
        for ago in (26 * H, 2 * H):
            run = store.start_run(started_at=now - ago)
            store.append_many(
                _record(run, c, a, now - ago) for c in checks for a in (KEPT, REMOVED)
            )
            store.finish_run(run, finished_at=now - ago + H / 60, outcome="complete")
    return config, url, now


def _status(annexa, config: Path, url: str, *args: str) -> dict[str, dict]:
    code, out, err = annexa("-c", str(config), "--database", url, "status", "-f", "json", *args)
    assert code == 0, err
    return {row["control"]: row for row in json.loads(out)}


def test_status_drops_a_target_removed_from_the_config(annexa, estate, tmp_path) -> None:
    config, url, now = estate
    before = _status(annexa, config, url)["A.8.3"]
    assert before["state"] == "failing" and any(REMOVED in r for r in before["reasons"])
    _config(tmp_path, KEPT)
    after = _status(annexa, config, url)
    assert after["A.8.3"]["state"] == "passing"
    assert not any(REMOVED in r for row in after.values() for r in row["reasons"])
    # status as it stood while the account was configured still counts it
    earlier = (now - 25 * H).isoformat(timespec="seconds")
    past = _status(annexa, config, url, "--at", earlier)["A.8.3"]
    assert past["state"] == "failing" and any(REMOVED in r for r in past["reasons"])
    # over a period: failing while the account existed, its last record's interval included
    day = (now - 2 * 24 * H).date().isoformat()
    period = _status(annexa, config, url, "--from", day)["A.8.3"]
    assert period["state"] == "passing"
    assert 0 < period["continuity"] < 100 and period["gaps"][-1]["cause"] == "failing"


def test_export_keeps_the_records_but_judges_the_end_over_the_config(
    annexa, estate, tmp_path
) -> None:
    config, url, now = estate
    _config(tmp_path, KEPT)
    out = tmp_path / "audit.zip"
    day = (now - 2 * 24 * H).date().isoformat()
    code, _, err = annexa(
        "-c", str(config), "--database", url, "export", "--from", day,
        "--to", (now + 24 * H).date().isoformat(), "--out", str(out),
        "--control", "A.8.3",
    )  # fmt: skip
    assert code == 0, err
    package = zipfile.ZipFile(out)
    records = list(csv.DictReader(io.StringIO(package.read("evidence/records.csv").decode())))
    assert {r["target"].split(":")[1] for r in records} == {KEPT, REMOVED}
    soa = {r["control"]: r for r in csv.DictReader(io.StringIO(package.read("soa.csv").decode()))}
    assert soa["A.8.3"]["automated_status"] == "passing"
    assert soa["A.8.3"]["open_findings"] == "0"
    oscal = json.loads(package.read("assessment-results.oscal.json"))
    [result] = oscal["assessment-results"]["results"]
    findings = {f["target"]["target-id"]: f for f in result["findings"]}
    assert findings["A.8.3"]["target"]["status"]["state"] == "satisfied"
    # the package's build inputs carry the scope, so verify re-derives the same reports
    from collector.export.inputs import BUILD_INPUTS, decode_inputs

    scope = decode_inputs(package.read(BUILD_INPUTS)).scope
    assert scope.accounts["aws"] == {KEPT} and scope.regions["aws"] == {"eu-west-1"}
    assert {target for _, target in scope.retired} == {f"aws:{REMOVED}:eu-west-1"}
    html = package.read("index.html").decode()
    assert f"aws:{REMOVED}:eu-west-1" in html  # its evidence is listed...
    assert LEAKY not in html  # ...but not as a failing resource at the end


def test_web_and_report_agree_with_the_cli(annexa, estate, tmp_path) -> None:
    config, url, now = estate
    _config(tmp_path, KEPT)
    cli = _status(annexa, config, url)
    settings = load_settings(config).model_copy(update={"database_url": url})
    app = create_app(settings, host="127.0.0.1", clock=lambda: now)
    with TestClient(app, follow_redirects=False) as web:
        rows = web.get("/controls?format=json").json()
        page = web.get("/controls/A.8.3").text
    assert {r["control"]: r["state"] for r in rows} == {c: r["state"] for c, r in cli.items()}
    assert f"aws:{REMOVED}" not in page.split("Evidence history")[0]  # not a target, not failing
    out = tmp_path / "review.json"
    day = (now - 2 * 24 * H).date().isoformat()
    code, _, err = annexa(
        "-c",
        str(config),
        "--database",
        url,
        "report",
        "--from",
        day,
        "--to",
        (now + 24 * H).date().isoformat(),
        "--out",
        str(out),
    )
    assert code == 0, err
    review = json.loads(out.read_text())
    row = next(r for r in review["controls"] if r["control"] == "A.8.3")
    assert row["state_at_end"] == "passing" and 0 < row["passing_pct"] < 100
    assert not [f for f in review["open_findings"] if REMOVED in f["target"]]


# -- the rule itself, on plain data with a pinned now -------------------------------------

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _summary(account: str, at: datetime):
    from storage.records import EvidenceSummary

    failing = account == REMOVED
    return EvidenceSummary(
        check_id=S3,
        target_key=f"aws:{account}:eu-west-1",
        provider="aws",
        account=account,
        region="eu-west-1",
        status="fail" if failing else "pass",
        collected_at=at,
        last_conclusive_at=at,
        passed=0 if failing else 1,
        failed=1 if failing else 0,
        summary="",
        evidence_id=1,
        error=None,
        failing_resources=(LEAKY,) if failing else (),
    )


def test_a_target_outside_the_config_counts_only_while_its_evidence_stood() -> None:
    workspace = load_workspace(Settings())
    scope = Scope(frozenset({S3}), accounts={"aws": frozenset({KEPT})})
    assert scope.counts(S3, f"aws:{KEPT}:eu-west-1") and scope.counts(S3, f"aws:{KEPT}")
    assert not scope.counts(S3, f"aws:{REMOVED}:eu-west-1")
    assert not Scope(frozenset({S3}), regions={"aws": frozenset({"us-east-1"})}).counts(
        S3, f"aws:{KEPT}:eu-west-1"
    )
    last = NOW - 10 * H
    retired = retire(scope, [_summary(KEPT, NOW - H), _summary(REMOVED, last)])
    assert retired.retired == {(S3, f"aws:{REMOVED}:eu-west-1"): last}

    def state(at: datetime, removed_at: datetime) -> ControlState:
        latest = [_summary(KEPT, at - H), _summary(REMOVED, removed_at)]
        found = evaluate(
            workspace.catalogue, None, workspace.mapping, latest, {S3: 6 * H}, at, scope=retired
        )
        return next(s for s in found if s.control.id == "A.8.3").state

    assert state(last - H, last - 2 * H) is ControlState.FAILING  # while it existed
    assert state(last, last) is ControlState.PASSING  # its last record: gone from then on
    assert state(NOW, last) is ControlState.PASSING
    bare = evaluate(  # without its history, a removed target never counts
        workspace.catalogue, None, workspace.mapping, [_summary(REMOVED, last - 2 * H)], {},
        last - H, scope=scope,
    )  # fmt: skip
    assert next(s for s in bare if s.control.id == "A.8.3").state is ControlState.NO_EVIDENCE


def test_the_config_names_its_targets_where_it_can(tmp_path) -> None:
    from collector.aws.organizations import ORGANIZATION_LABEL
    from collector.providers import configured_targets

    accounts, regions = configured_targets(Settings(data_dir=tmp_path))
    assert "aws" not in accounts and regions == {}  # the default chain: any account counts
    settings = Settings(
        data_dir=tmp_path,
        aws={
            "accounts": [{"role_arn": f"arn:aws:iam::{KEPT}:role/Audit"}],
            "organization": {"include": [REMOVED, "333333333333"], "exclude": ["333333333333"]},
            "regions": ["eu-west-1", "us-east-1"],
        },
        azure={"tenants": [{"tenant_id": "t1", "subscriptions": ["s1", "s2"]}]},
        okta={"org_url": "https://acme.okta.com"},
        fleet={"base_url": "https://fleet.example.com:8443"},
        github={"organizations": ["acme"]},
    )
    accounts, regions = configured_targets(settings)
    assert accounts["aws"] == {KEPT, REMOVED, ORGANIZATION_LABEL}
    assert regions == {"aws": {"eu-west-1", "us-east-1"}}
    assert accounts["azure"] == {"t1", "s1", "s2"} and accounts["entra"] == {"t1"}
    assert accounts["okta"] == {"acme.okta.com"} and accounts["github"] == {"acme"}
    assert "osquery" not in accounts  # the host running it
    scope = Scope(frozenset({"fleet.hosts.disk_encrypted"}), accounts=accounts, regions=regions)
    assert scope.counts("fleet.hosts.disk_encrypted", "fleet:fleet.example.com:8443")
    assert not scope.counts("fleet.hosts.disk_encrypted", "fleet:other.example.com:8443")
    profiles = Settings(data_dir=tmp_path, aws={"accounts": [{"profile": "prod"}]})
    assert "aws" not in configured_targets(profiles)[0]  # its id only resolution tells
    everything = Settings(data_dir=tmp_path, azure={"tenants": [{"tenant_id": "t1"}]})
    assert "azure" not in configured_targets(everything)[0]  # subscriptions: all


def _profiles_config(tmp_path: Path, monkeypatch, *profiles: str) -> Path:
    """An annexa config reaching accounts through named profiles, and the AWS config file that
    says which account each profile is (IAM Identity Center and an assumed role)."""
    aws_config = tmp_path / "aws-config"
    aws_config.write_text(
        f"[profile kept]\nsso_session = corp\nsso_account_id = {KEPT}\nsso_role_name = Audit\n"
        f"[profile removed]\nrole_arn = arn:aws:iam::{REMOVED}:role/Audit\nsource_profile = kept\n"
        "[profile keys]\nregion = eu-west-1\n"
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    entries = ", ".join(f"{{profile: {p}}}" for p in profiles)
    config = tmp_path / "annexa.yaml"
    config.write_text(f"soa: soa.yaml\naws: {{accounts: [{entries}], regions: [eu-west-1]}}\n")
    return config


def test_status_drops_an_account_whose_profile_left_the_config(
    annexa, estate, tmp_path, monkeypatch
) -> None:
    config, url, _ = estate
    _profiles_config(tmp_path, monkeypatch, "kept", "removed")
    both = _status(annexa, config, url)["A.8.3"]
    assert both["state"] == "failing" and any(REMOVED in r for r in both["reasons"])
    _profiles_config(tmp_path, monkeypatch, "kept")
    after = _status(annexa, config, url)
    assert after["A.8.3"]["state"] == "passing"
    assert not any(REMOVED in r for row in after.values() for r in row["reasons"])


def test_profiles_name_their_account_only_when_the_config_file_says_it(
    tmp_path, monkeypatch
) -> None:
    from collector.providers import configured_targets

    _profiles_config(tmp_path, monkeypatch, "kept")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)

    def aws_accounts(*entries: dict) -> object:
        settings = Settings(data_dir=tmp_path, aws={"accounts": list(entries)})
        return configured_targets(settings)[0].get("aws")

    assert aws_accounts({"profile": "kept"}, {"profile": "removed"}) == {KEPT, REMOVED}
    assert aws_accounts({"profile": "kept"}, {"profile": "keys"}) is None  # static keys
    assert aws_accounts({"profile": "absent"}) is None
    monkeypatch.setenv("AWS_PROFILE", "removed")
    assert aws_accounts({}) == {REMOVED}  # the default chain's profile
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
    assert aws_accounts({}) is None  # keys in the environment come first in the chain
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing"))
    assert aws_accounts({"profile": "kept"}) is None
