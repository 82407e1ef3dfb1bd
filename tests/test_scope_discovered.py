"""Targets only resolution names (AWS static keys, instance roles or the default chain; an
Azure tenant's ``subscriptions: all``): status counts the accounts the newest run of that
provider covered, plus those the config names. A discovered target that left (a deleted
subscription, keys switched to another account) leaves status after the next run; its history
stays for the time it existed. Before any run that records its accounts: any account counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from starlette.testclient import TestClient

from collector.settings import load_settings
from collector.web.app import create_app
from storage import EvidenceStore, NewEvidence

H = timedelta(hours=1)
KEPT, GONE, NEW = "111111111111", "222222222222", "333333333333"
S3 = "aws.s3.public_access_blocked"  # sufficient evidence for A.8.3
BLOB = "azure.storage.public_blob_access_disabled"  # sufficient evidence for A.8.3
TENANT = "00000000-0000-0000-0000-00000000000t"
SUB_KEPT = "00000000-0000-0000-0000-0000000000a1"
SUB_GONE = "00000000-0000-0000-0000-0000000000b2"


def _record(run: str, check: str, provider: str, account: str, at: datetime, ok: bool):
    return NewEvidence(
        run_id=run,
        check_id=check,
        check_version=1,
        provider=provider,
        account=account,
        region=None,
        collected_at=at,
        status="pass" if ok else "fail",
        summary="1 resource" if ok else "public access possible",
        findings=[{"resource": f"res-{account}", "passed": ok, "message": ""}],
        observations={},
    )


def _runs(url: str, now: datetime, *runs: tuple[int, dict[str, bool], dict | None]) -> None:
    """One run per item, ``hours`` ago: ``{provider:account: passes}`` records of the
    provider's check, and the accounts the run recorded (None: a run that records none)."""
    with EvidenceStore.open(url) as store:
        for hours, verdicts, accounts in runs:
            at = now - hours * H
            run = store.start_run(started_at=at)
            store.append_many(
                _record(run, S3 if key.startswith("aws") else BLOB, *key.split(":"), at, ok)
                for key, ok in verdicts.items()
            )
            done = at + H / 60
            store.finish_run(run, finished_at=done, outcome="complete", collected_by=accounts)


def _config(tmp_path: Path, provider: str) -> Path:
    (tmp_path / "soa.yaml").write_text("controls:\n  - {control: A.8.3, applicable: yes}\n")
    config = tmp_path / "annexa.yaml"
    config.write_text(f"soa: soa.yaml\n{provider}\n")
    return config


def _status(annexa, config: Path, url: str, check: str, *args: str) -> dict:
    code, out, err = annexa(
        "-c", str(config), "--database", url, "status", "-f", "json", "--check", check, *args
    )
    assert code == 0, err
    return next(row for row in json.loads(out) if row["control"] == "A.8.3")


AZURE_ALL = f"azure: {{tenants: [{{tenant_id: '{TENANT}', subscriptions: all}}]}}"


def test_a_deleted_subscription_leaves_status_after_the_next_run(annexa, tmp_path) -> None:
    config, url, now = _config(tmp_path, AZURE_ALL), _url(tmp_path), _now()
    who = f"app x in tenant {TENANT}"
    both = {f"azure:{SUB_KEPT}": who, f"azure:{SUB_GONE}": who}
    verdicts = {f"azure:{SUB_KEPT}": True, f"azure:{SUB_GONE}": False}
    _runs(
        url,
        now,
        (50, verdicts, both),
        (26, verdicts, both),
        (2, {f"azure:{SUB_KEPT}": True}, {f"azure:{SUB_KEPT}": who}),  # SUB_GONE was deleted
    )
    now_row = _status(annexa, config, url, BLOB)
    assert now_row["state"] == "passing", now_row["reasons"]
    assert not any(SUB_GONE in r for r in now_row["reasons"])
    # while it existed, it counted
    past = _status(annexa, config, url, BLOB, "--at", (now - 27 * H).isoformat())
    assert past["state"] == "failing" and any(SUB_GONE in r for r in past["reasons"])
    # the console judges the same targets
    settings = load_settings(config).model_copy(update={"database_url": url})
    with TestClient(create_app(settings, host="127.0.0.1", clock=lambda: now)) as web:
        page = web.get("/controls/A.8.3").text
    assert f"azure:{SUB_GONE}" not in page.split("Evidence history")[0]


def test_a_mixed_config_counts_the_named_account_and_the_chains_newest(annexa, tmp_path) -> None:
    """One account named by its role, one entry on the default chain, whose keys moved from
    GONE to NEW: GONE leaves, KEPT and NEW count."""
    config = _config(
        tmp_path,
        f"aws: {{accounts: [{{role_arn: 'arn:aws:iam::{KEPT}:role/Audit'}}, {{}}]}}",
    )
    url, now = _url(tmp_path), _now()
    _runs(
        url,
        now,
        (26, {f"aws:{KEPT}": True, f"aws:{GONE}": False}, {f"aws:{KEPT}": "r", f"aws:{GONE}": "k"}),
        (2, {f"aws:{KEPT}": True, f"aws:{NEW}": True}, {f"aws:{KEPT}": "r", f"aws:{NEW}": "k"}),
    )
    row = _status(annexa, config, url, S3)
    assert row["state"] == "passing", row["reasons"]
    assert not any(GONE in r for r in row["reasons"])
    _runs(url, now, (1, {f"aws:{NEW}": False}, None))  # a run naming no accounts: NEW fails
    row = _status(annexa, config, url, S3)
    assert row["state"] == "failing" and any(NEW in r for r in row["reasons"])


def test_before_a_run_records_its_accounts_any_account_counts(annexa, tmp_path) -> None:
    """Records from runs that name no accounts (older versions of annexa, or none at all):
    the provider's every account counts, as before."""
    config, url, now = _config(tmp_path, "aws: {accounts: [{}]}"), _url(tmp_path), _now()
    _runs(url, now, (2, {f"aws:{KEPT}": True, f"aws:{GONE}": False}, None))
    row = _status(annexa, config, url, S3)
    assert row["state"] == "failing" and any(GONE in r for r in row["reasons"])


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'evidence.sqlite'}"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def aws_keys(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Static keys in the environment (the default chain's first source); no AWS config."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@mock_aws
def test_static_keys_switched_to_another_account_leave_with_the_next_run(
    annexa, tmp_path, monkeypatch, aws_keys
) -> None:
    """``annexa run`` with keys of account GONE (a public bucket), then with keys of NEW (all
    blocked): after the second run, status judges NEW alone."""
    config = _config(tmp_path, "aws: {regions: [eu-west-1]}")
    url = _url(tmp_path)
    for account, blocked in ((GONE, False), (NEW, True)):
        monkeypatch.setenv("MOTO_ACCOUNT_ID", account)
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket=f"bucket-{account}",
            CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        )
        if blocked:
            s3.put_public_access_block(
                Bucket=f"bucket-{account}",
                PublicAccessBlockConfiguration=dict.fromkeys(
                    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                     "RestrictPublicBuckets"), True),
            )  # fmt: skip
        code, _, err = annexa("-c", str(config), "--database", url, "run", "--check", S3)
        assert code in (0, 1), err
        row = _status(annexa, config, url, S3)
        assert any(account in r for r in row["reasons"]) or row["state"] == "passing"
    assert row["state"] == "passing", row["reasons"]
    assert not any(GONE in r for r in row["reasons"])
    with EvidenceStore.open(url) as store:
        newest = store.runs(1)[0]
    assert newest.collected_by is not None and set(newest.collected_by) == {f"aws:{NEW}"}


# -- what runs record, and what the config leaves to resolution ----------------------------


def test_the_newest_run_recording_a_provider_names_its_accounts(store: EvidenceStore) -> None:
    now = _now()
    for hours, accounts in (
        (9, {f"aws:{GONE}": "k", f"azure:{SUB_GONE}": "app"}),
        (5, {f"aws:{KEPT}": "k", "aws:default": None}),  # unreached: its records say why
        (3, None),  # a run from a version that recorded no accounts
        (1, {"github:acme": "app 42", "okta:acme.okta.com": 'client ,"aws:999999999999'}),
    ):
        run = store.start_run(started_at=now - hours * H, collected_by=accounts)
        store.finish_run(run, finished_at=now, outcome="complete")
    assert store.run_accounts(["aws", "azure", "gcp"]) == {
        "aws": {KEPT, "default"},
        "azure": {SUB_GONE},
    }
    assert store.run_accounts([]) == {}


def test_the_config_leaves_to_resolution_only_what_it_cannot_name(tmp_path) -> None:
    from collector.providers import configured_targets, discovered_targets
    from collector.settings import Settings

    def split(**config) -> tuple[dict, dict]:
        settings = Settings(data_dir=tmp_path, **config)
        return configured_targets(settings)[0], discovered_targets(settings)

    named = {"role_arn": f"arn:aws:iam::{KEPT}:role/Audit"}
    accounts, discovered = split(aws={"accounts": [named]})
    assert accounts["aws"] == {KEPT} and "aws" not in discovered
    accounts, discovered = split(aws={"accounts": [named, {}]})
    assert "aws" not in accounts and discovered["aws"] == {KEPT}
    accounts, discovered = split(aws={"organization": {}})
    assert discovered["aws"] == {"organization"}
    tenants = [{"tenant_id": "t1", "subscriptions": ["s1"]}, {"tenant_id": "t2"}]
    accounts, discovered = split(azure={"tenants": tenants})
    assert discovered["azure"] == {"t1", "s1", "t2"} and "azure" not in accounts
    assert accounts["entra"] == {"t1", "t2"}  # tenants are always named
    accounts, discovered = split(azure={"tenants": tenants[:1]})
    assert accounts["azure"] == {"t1", "s1"} and "azure" not in discovered


def test_a_run_records_every_account_it_covers_even_unreached(store) -> None:
    import dataclasses

    from collector.accounts import Account
    from collector.runner import Runner
    from tests.test_runner import REGISTRY, lab_account

    reached = dataclasses.replace(lab_account(), identity="bot")
    unreached = Account("lab", "lab-2", error="cannot access lab-2: denied")
    result = Runner(REGISTRY, store).run(
        REGISTRY.select(ids=["lab.widgets.present"]), [reached, unreached]
    )
    assert store.get_run(result.run_id).collected_by == {"lab:lab-1": "bot", "lab:lab-2": None}
    assert store.run_accounts(["lab"]) == {"lab": {"lab-1", "lab-2"}}
