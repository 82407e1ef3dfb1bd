"""Signed checkpoints anchored outside the database: truncation, deleted tails, appended
forgeries, a recomputed chain and forged ledger rows are named by ``verify``, on SQLite and
PostgreSQL; KMS signing and the S3 Object Lock anchor run against moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from moto import mock_aws
from sqlalchemy import create_engine, select, text, update

from collector.anchoring import verify_store
from collector.app import open_store
from collector.settings import CheckpointSettings, S3AnchorSettings, Settings
from storage import EvidenceStore, NewEvidence
from storage.base import ev
from storage.checkpoint import DirectoryAnchor, Ed25519Signer, write_checkpoint
from storage.ledger import append_entry
from storage.records import IntegrityProblem
from storage.sealing import observations_hash, row_seal, seal
from tests.store.test_store import T0, add_exception, evidence, raw_sql

HOUR = timedelta(hours=1)


def key_file(tmp_path: Path, name: str = "signing.pem") -> Path:
    path = tmp_path / name
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.fixture
def settings(store_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=store_url,
        data_dir=tmp_path,
        checkpoints=CheckpointSettings(
            signing_key=key_file(tmp_path), directory=tmp_path / "anchor"
        ),
    )


def seed_runs(store: EvidenceStore, runs: int = 3, per_run: int = 4) -> list[str]:
    """Finished runs (each finish writes a checkpoint through the store's hook)."""
    ids = []
    for r in range(runs):
        run = store.start_run(started_at=T0 + r * HOUR)
        store.append_many(
            [evidence(run, check_id=f"c{i}", at=T0 + r * HOUR) for i in range(per_run)]
        )
        store.finish_run(run, finished_at=T0 + r * HOUR, outcome="complete")
        ids.append(run)
    return ids


def verdict(store: EvidenceStore, settings: Settings) -> tuple[str, str]:
    problem = verify_store(store, settings).report.problem
    assert problem is not None, "verify did not notice"
    return problem.kind, problem.detail


def forge_append(url: str, store: EvidenceStore, item: NewEvidence) -> None:
    """What an administrator can do with SQL alone: a record sealed and chained correctly."""
    head = store.heads().head
    digest = observations_hash(item.observations)
    content = seal(item, head, digest)
    passed = sum(1 for f in item.findings if f["passed"])
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO observation (sha256, content) VALUES (:h, :c) ON CONFLICT DO NOTHING"
            ),
            {"h": digest, "c": '{"buckets":["a"]}'},
        )
        conn.execute(
            text(
                "INSERT INTO evidence (run_id, check_id, check_version, provider, account,"
                " region, target_key, collected_at, status, summary, findings, passed, failed,"
                " observations_hash, error, content_hash, previous_hash) VALUES (:run, :check,"
                " 1, 'aws', :account, :region, :target, :at, :status, :summary, :findings,"
                " :passed, :failed, :obs, NULL, :content, :previous)"
            ),
            {
                "run": item.run_id,
                "check": item.check_id,
                "account": item.account,
                "region": item.region,
                "target": item.target_key,
                "at": item.collected_at,
                "status": item.status,
                "summary": item.summary,
                "findings": json.dumps(item.findings),
                "passed": passed,
                "failed": len(item.findings) - passed,
                "obs": digest,
                "content": content,
                "previous": head,
            },
        )
    engine.dispose()


def test_intact_store_agrees_with_every_checkpoint(settings: Settings) -> None:
    with open_store(settings) as store:
        seed_runs(store)
        checked = verify_store(store, settings)
    report = checked.report
    assert report.problem is None
    assert (report.records, report.checkpoints, report.unanchored) == (12, 3, 0)
    assert checked.anchors == [f"directory {settings.checkpoints.directory}"]
    files = sorted(settings.checkpoints.directory.iterdir())
    assert len(files) == 3 and all(f.stat().st_mode & 0o222 == 0 for f in files)


@pytest.mark.parametrize("deleted", [1, 10, 12])
def test_deleted_tail_or_everything_is_truncation(settings, store_url, deleted) -> None:
    with open_store(settings) as store:
        seed_runs(store)
        raw_sql(
            store_url,
            "DELETE FROM evidence WHERE id IN (SELECT id FROM evidence ORDER BY id DESC LIMIT :n)",
            n=deleted,
        )
        kind, detail = verdict(store, settings)
    assert kind == "checkpoint" and "truncated" in detail
    assert f"the store holds {12 - deleted}" in detail


def test_appended_forgery_in_a_finished_run_is_named(settings, store_url) -> None:
    with open_store(settings) as store:
        runs = seed_runs(store)
        forge_append(store_url, store, evidence(runs[0], check_id="c0", at=T0 + 5 * HOUR))
        kind, detail = verdict(store, settings)
    assert kind == "unanchored" and "appended forgery" in detail and runs[0] in detail


def test_recomputed_chain_suffix_is_named(settings, store_url) -> None:
    with open_store(settings) as store:
        seed_runs(store)
        with store.engine.begin() as conn:  # typed rows: aware datetimes, parsed JSON
            rows = [r._asdict() for r in conn.execute(select(ev).order_by(ev.c.id))]
            previous = rows[4]["previous_hash"]
            rows[4]["summary"] = "all good"  # edit record 5, re-seal it and every one after
            for row in rows[4:]:
                sealed = {
                    k: row[k] for k in NewEvidence.__dataclass_fields__ if k != "observations"
                }
                content = seal(
                    NewEvidence(**sealed, observations={}), previous, row["observations_hash"]
                )
                conn.execute(
                    update(ev)
                    .where(ev.c.id == row["id"])
                    .values(summary=row["summary"], previous_hash=previous, content_hash=content)
                )
                previous = content
        assert store.verify_report().problem is None  # the chain alone cannot tell
        kind, detail = verdict(store, settings)
    assert kind == "checkpoint" and "history rewritten" in detail


@pytest.mark.parametrize("kind", ["exception", "tombstone"])
def test_forged_row_with_its_ledger_entry_is_named(settings, store_url, kind) -> None:
    with open_store(settings) as store:
        seed_runs(store)
        engine = create_engine(store_url)
        with engine.begin() as conn:
            if kind == "exception":
                values = {
                    "id": 99,
                    "check_id": "c0",
                    "resource_pattern": "*",
                    "target_pattern": "*",
                    "reason": "forged",
                    "approved_by": "nobody",
                    "created_at": T0,
                    "expires_at": T0 + 900 * HOUR,
                    "created_by": "admin",
                }
                conn.execute(
                    text(
                        "INSERT INTO risk_exception VALUES (:id, :check_id, :resource_pattern,"
                        " :target_pattern, :reason, :approved_by, :created_at, :expires_at,"
                        " :created_by, :row_hash)"
                    ),
                    {
                        **values,
                        "row_hash": row_seal({k: v for k, v in values.items() if k != "id"}),
                    },
                )
            else:
                values = {
                    "id": 99,
                    "pruned_at": T0,
                    "before": T0,
                    "count": 0,
                    "first_id": 0,
                    "last_id": 0,
                    "first_hash": "0" * 64,
                    "last_hash": "0" * 64,
                    "previous_hash": "0" * 64,
                }
                conn.execute(
                    text(
                        "INSERT INTO prune_tombstone VALUES (:id, :pruned_at, :before, :count,"
                        " :first_id, :last_id, :first_hash, :last_hash, :previous_hash)"
                    ),
                    values,
                )
            append_entry(conn, kind, 99, values)
        engine.dispose()
        entries = store.heads().ledger
        problem = verify_store(store, settings).report.problem
    assert problem == IntegrityProblem(
        "unanchored",
        None,
        f"{kind} 99 (ledger entry {entries}) is not covered by any checkpoint, though annexa "
        "anchors each one as it is written",
    )


def test_an_exception_anchored_as_it_is_written_verifies(settings) -> None:
    """The newest checkpoint ends with the exception's own ledger entry: covered."""
    with open_store(settings) as store:
        seed_runs(store, runs=1)
        add_exception(store, check_id="c0")
        report = verify_store(store, settings).report
    assert (report.problem, report.checkpoints, report.ledger, report.unanchored) == (None, 2, 3, 0)


def test_a_run_open_across_a_checkpoint_may_go_on_appending(settings) -> None:
    """The daemon checkpoints while a run collects: the run's later records are only not yet
    anchored, not forgeries (the run had not finished at the checkpoint)."""
    with open_store(settings) as store:
        seed_runs(store, runs=1)
        run = store.start_run(started_at=T0 + HOUR)
        store.append(evidence(run, check_id="c0", at=T0 + HOUR))
        assert store.checkpoint_hook is not None
        store.checkpoint_hook(store)
        store.append_many([evidence(run, check_id=c, at=T0 + HOUR) for c in ("c1", "c2")])
        report = verify_store(store, settings).report
    assert (report.problem, report.checkpoints, report.position, report.unanchored) == (
        None,
        2,
        7,
        2,
    )


def test_checkpoint_by_an_unknown_key_is_named(settings, tmp_path) -> None:
    with open_store(settings) as store:
        seed_runs(store, runs=1)
        stranger = Ed25519Signer.from_file(key_file(tmp_path, "stranger.pem"))
        heads = store.heads()
        write_checkpoint(heads, T0 + 9 * HOUR, stranger, [DirectoryAnchor(tmp_path / "anchor")])
        kind, detail = verdict(store, settings)
    assert kind == "checkpoint" and "signed by an unknown key SHA256:" in detail


def test_unanchored_store_says_so(annexa) -> None:
    code, out, _ = annexa("verify")
    assert code == 0 and "unanchored: no checkpoint anchor is configured" in out
    assert "head 0000000000000000" in out and "0 records" in out


@mock_aws
def test_kms_signed_checkpoints_in_an_object_lock_bucket(sqlite_url, tmp_path) -> None:
    kms = boto3.client("kms", region_name="eu-west-1")
    key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["KeyId"]
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(
        Bucket="annexa-anchor",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
        ObjectLockEnabledForBucket=True,
    )
    settings = Settings(
        database_url=sqlite_url,
        data_dir=tmp_path,
        checkpoints=CheckpointSettings(
            kms_key_id=key_id,
            kms_region="eu-west-1",
            s3=S3AnchorSettings(bucket="annexa-anchor", prefix="prod", region="eu-west-1"),
        ),
    )
    with open_store(settings) as store:
        seed_runs(store, runs=2)
        assert verify_store(store, settings).report.problem is None
        listed = s3.list_objects_v2(Bucket="annexa-anchor", Prefix="prod/")["Contents"]
        assert len(listed) == 2
        head = s3.head_object(Bucket="annexa-anchor", Key=listed[0]["Key"])
        assert head["ObjectLockMode"] == "COMPLIANCE"
        assert head["ObjectLockRetainUntilDate"] > datetime.now(UTC) + timedelta(days=2000)
        raw_sql(sqlite_url, "DELETE FROM evidence WHERE id = (SELECT max(id) FROM evidence)")
        kind, detail = verdict(store, settings)
    assert kind == "checkpoint" and "truncated" in detail and "s3://annexa-anchor/prod/" in detail


def test_an_unwritable_anchor_never_loses_evidence(store_url, tmp_path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the anchor directory should be")
    settings = Settings(
        database_url=store_url,
        data_dir=tmp_path,
        checkpoints=CheckpointSettings(signing_key=key_file(tmp_path), directory=blocked),
    )
    with open_store(settings) as store:
        seed_runs(store, runs=1)  # finish_run's checkpoint fails: logged, not raised
        assert store.count() == 4
        assert store.checkpoint_hook is not None and store.checkpoint_hook(store) is None
