"""The audit tables on SQLite and PostgreSQL: manual evidence, exceptions, failing resources on
the latest pointers, latest_at, timeline, records_between, and the 0001 -> 0002 migration."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import create_engine, text

from storage import MAX_BLOB_BYTES, BlobTooLarge, EvidenceStore, current_revision
from storage.migrate import alembic_config, head_revision
from tests.store.test_store import T0, evidence

HOUR = timedelta(hours=1)
S3 = "aws.s3.public_access_blocked"
FAILING = [
    {"resource": "arn:aws:s3:::b", "passed": False, "message": "public"},
    {"resource": "arn:aws:s3:::a", "passed": False, "message": "public"},
    {"resource": "arn:aws:s3:::c", "passed": True, "message": "blocked"},
]


def add_manual(store: EvidenceStore, content: bytes, control: str = "A.5.1", **kw: object):
    values = {
        "file_name": "policy.pdf",
        "media_type": "application/pdf",
        "note": "v1",
        "uploaded_at": T0,
        "valid_until": T0 + 365 * 24 * HOUR,
        "uploaded_by": "alice",
        **kw,
    }
    return store.add_manual([control], content, **values)  # type: ignore[arg-type]


def test_manual_items_share_one_blob_and_keep_history(store: EvidenceStore, store_url: str) -> None:
    [first] = add_manual(store, b"%PDF-1 policy")
    [second] = add_manual(store, b"%PDF-1 policy", uploaded_at=T0 + HOUR, note="v1 again")
    both = store.add_manual(
        ["A.5.2", "A.5.3"],
        b"roles",
        file_name="roles.txt",
        media_type="text/plain",
        note="",
        uploaded_at=T0,
        valid_until=T0 + HOUR,
        uploaded_by="bob",
        valid_from=T0 - HOUR,
    )
    assert first.sha256 == second.sha256 == hashlib.sha256(b"%PDF-1 policy").hexdigest()
    assert first.size == 13 and first.valid_from == T0
    assert [i.valid_from for i in both] == [T0 - HOUR, T0 - HOUR]
    assert store.manual_items(["A.5.1"]) == [first, second]
    assert [i.control_id for i in store.manual_items()] == ["A.5.1", "A.5.2", "A.5.3", "A.5.1"]
    assert store.blob(first.sha256) == b"%PDF-1 policy"
    assert store.blob(first.sha256.upper()) == b"%PDF-1 policy"
    assert store.blob("0" * 64) is None
    engine = create_engine(store_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM evidence_blob")).scalar_one() == 2
    engine.dispose()


def test_manual_blob_limit(store: EvidenceStore) -> None:
    with pytest.raises(BlobTooLarge):
        add_manual(store, b"x" * (MAX_BLOB_BYTES + 1))
    assert store.manual_items() == []


def test_exceptions_and_revocation_rows(store: EvidenceStore) -> None:
    made = store.add_exception(
        check_id=S3,
        resource_pattern="arn:aws:s3:::legacy-*",
        target_pattern="*",
        reason="migration until Q3",
        approved_by="CISO",
        created_at=T0,
        expires_at=T0 + 100 * HOUR,
        created_by="alice",
    )
    assert made.id and made.revoked_at is None and made.active_at(T0)
    revoked = store.revoke_exception(
        made.id, revoked_at=T0 + 10 * HOUR, revoked_by="bob", reason="bucket deleted"
    )
    assert (revoked.revoked_at, revoked.revoked_by, revoked.revoke_reason) == (
        T0 + 10 * HOUR,
        "bob",
        "bucket deleted",
    )
    assert revoked.active_at(T0 + 9 * HOUR) and not revoked.active_at(T0 + 10 * HOUR)
    assert not revoked.active_at(T0 - HOUR)
    assert store.exceptions() == [revoked]
    with pytest.raises(ValueError, match="already revoked"):
        store.revoke_exception(made.id, revoked_at=T0, revoked_by="x", reason="again")
    with pytest.raises(KeyError):
        store.revoke_exception(999, revoked_at=T0, revoked_by="x", reason="none")


def test_latest_keeps_failing_resources(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    store.append(evidence(run, at=T0, status="fail", findings=FAILING))
    [s] = store.latest()
    assert s.failing_resources == ("arn:aws:s3:::a", "arn:aws:s3:::b")
    store.append(evidence(run, at=T0 + HOUR))
    [s] = store.latest()
    assert s.failing_resources == ()


def test_latest_at_sees_the_past(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    a = store.append(evidence(run, at=T0, status="pass"))
    b = store.append(evidence(run, at=T0 + HOUR, status="fail", findings=FAILING))
    c = store.append(evidence(run, at=T0 + 2 * HOUR, status="error", findings=[], error="denied"))
    store.append(evidence(run, check_id="other", at=T0 + 3 * HOUR))

    assert store.latest_at(T0 - timedelta(microseconds=1)) == []
    [at_a] = store.latest_at(T0)
    assert (at_a.evidence_id, at_a.status, at_a.last_conclusive_at) == (a.id, "pass", T0)
    [at_b] = store.latest_at(T0 + HOUR + timedelta(minutes=30))
    assert (at_b.evidence_id, at_b.failing_resources) == (
        b.id,
        ("arn:aws:s3:::a", "arn:aws:s3:::b"),
    )
    assert (at_b.passed, at_b.failed) == (1, 2)
    [at_c] = store.latest_at(T0 + 2 * HOUR)
    assert (at_c.evidence_id, at_c.error, at_c.last_conclusive_at) == (c.id, "denied", T0 + HOUR)
    now = store.latest_at(T0 + 10 * HOUR)
    assert [(s.check_id, s.evidence_id) for s in now] == [
        ("aws.s3.public_access_blocked", c.id),
        ("other", c.id + 1),
    ]
    assert now == store.latest()
    assert [s.check_id for s in store.latest_at(T0 + 10 * HOUR, ["other"])] == ["other"]


def test_timeline_and_records_between(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    for i, status in enumerate(["pass", "error", "fail", "pass"]):
        findings = FAILING if status == "fail" else [] if status == "error" else None
        store.append(evidence(run, at=T0 + i * HOUR, status=status, findings=findings))
    events = list(store.timeline(T0 + HOUR, T0 + 3 * HOUR))
    assert [(e.status, e.collected_at, e.last_conclusive_at) for e in events] == [
        ("error", T0 + HOUR, T0),  # the state the period opens with
        ("fail", T0 + 2 * HOUR, T0 + 2 * HOUR),
    ]
    assert events[1].failing_resources == ("arn:aws:s3:::a", "arn:aws:s3:::b")
    records = list(store.records_between(T0 + HOUR, T0 + 3 * HOUR))
    assert [r.status for r in records] == ["error", "fail"]
    assert records[0].observations == {"buckets": ["a"]}
    assert list(store.records_between(T0, T0 + 9 * HOUR, check_ids=["none"])) == []


def test_upgrade_from_0001_backfills_failing_resources(store_url: str) -> None:
    config = alembic_config(store_url)
    command.upgrade(config, "0001")
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO run (id, started_at, outcome, trigger, host, pid, planned) "
                "VALUES ('r1', :t, 'complete', 'cli', 'h', 1, 1)"
            ),
            {"t": T0},
        )
        conn.execute(
            text("INSERT INTO observation (sha256, content) VALUES ('o1', '{}')"),
        )
        conn.execute(
            text(
                "INSERT INTO evidence (id, run_id, check_id, check_version, provider, account,"
                " region, target_key, collected_at, status, summary, findings, passed, failed,"
                " observations_hash, error, content_hash, previous_hash) VALUES (1, 'r1', 'c',"
                " 1, 'aws', '1', NULL, 'aws:1', :t, 'fail', 's', :f, 0, 1, 'o1', NULL, 'h1',"
                " 'p0')"
            ),
            {"t": T0, "f": '[{"resource": "r9", "passed": false, "message": "x"}]'},
        )
        conn.execute(
            text(
                "INSERT INTO latest_evidence (check_id, target_key, provider, account, region,"
                " status, collected_at, last_conclusive_at, passed, failed, summary, error,"
                " evidence_id) VALUES ('c', 'aws:1', 'aws', '1', NULL, 'fail', :t, :t, 0, 1,"
                " 's', NULL, 1)"
            ),
            {"t": T0},
        )
    engine.dispose()
    with EvidenceStore.open(store_url) as store:
        assert current_revision(store_url) == head_revision()
        [s] = store.latest()  # recomputed from the sealed findings
        assert s.failing_resources == ("r9",)
        with store.engine.connect() as conn:  # 0004 put the existing run into the ledger
            rows = conn.execute(text("SELECT kind, ref FROM ledger")).all()
        assert [tuple(r) for r in rows] == [("run", "r1")]
    command.downgrade(config, "0001")
    assert current_revision(store_url) == "0001"
