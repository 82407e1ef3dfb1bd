"""The store's own administrator changes the database with plain SQL; ``verify`` names each
change and status never believes an unsealed value. SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select

from storage import EvidenceStore, NewEvidence
from storage.base import ledger_t
from storage.records import IntegrityProblem
from storage.sealing import row_seal
from tests.store.test_store import T0, add_exception, add_manual, evidence, raw_sql

HOUR = timedelta(hours=1)
FAILING = [
    {"resource": "arn:aws:s3:::open", "passed": False, "message": "public"},
    {"resource": "arn:aws:s3:::shut", "passed": True, "message": "blocked"},
]


@pytest.fixture
def seeded(store: EvidenceStore) -> dict:
    """Two runs of two checks (one failing), an exception, a manual item, a transition."""
    ids: dict = {"records": []}
    for n in range(2):
        run = store.start_run(started_at=T0 + n * HOUR)
        ids["records"] += [
            store.append(evidence(run, check_id="c.pass", at=T0 + n * HOUR)),
            store.append(
                evidence(run, check_id="c.fail", at=T0 + n * HOUR, findings=FAILING, status="fail")
            ),
        ]
        store.finish_run(run, finished_at=T0 + n * HOUR, outcome="complete")
        ids["run"] = run
    ids["exception"] = store.add_exception(
        check_id="c.other",
        resource_pattern="*",
        target_pattern="*",
        reason="r",
        approved_by="ciso",
        created_at=T0,
        expires_at=T0 + 90 * HOUR,
        created_by="me",
    )
    ids["transition"] = store.record_transition("A.8.3", None, "failing", at=T0, alert=True)
    store.mark_alert(ids["transition"].id, "delivered", at=T0)
    assert store.verify_report().problem is None
    return ids


def problem_of(store: EvidenceStore) -> tuple[str, str]:
    problem = store.verify_report().problem
    assert problem is not None, "verify did not notice the change"
    return problem.kind, problem.detail


def test_status_ignores_edited_unsealed_counts(store, store_url, seeded) -> None:
    failing = seeded["records"][-1]
    raw_sql(store_url, "UPDATE evidence SET passed = 2, failed = 0 WHERE id = :i", i=failing.id)
    [summary] = store.latest(["c.fail"])
    assert (summary.passed, summary.failed) == (1, 1)
    assert summary.failing_resources == ("arn:aws:s3:::open",)
    assert store.verify_report().problem == IntegrityProblem(
        "unsealed_column",
        failing.id,
        "unsealed column passed = 2 disagrees with the sealed record (1)",
    )


def test_edited_target_key_is_named(store, store_url, seeded) -> None:
    raw_sql(store_url, "UPDATE evidence SET target_key = 'aws:elsewhere' WHERE check_id='c.fail'")
    kind, detail = problem_of(store)
    assert kind == "unsealed_column" and "target_key" in detail


def test_latest_is_recomputed_from_sealed_records(store, seeded) -> None:
    latest = {s.check_id: s for s in store.latest()}
    assert latest["c.fail"].evidence_id == seeded["records"][-1].id
    assert latest["c.fail"].status == "fail" and latest["c.pass"].status == "pass"
    assert store.latest_at(T0 + HOUR / 2, ["c.fail"])[0].evidence_id == seeded["records"][1].id


def test_edited_run_outcome_is_named(store, store_url, seeded) -> None:
    raw_sql(store_url, "UPDATE run SET outcome = 'partial' WHERE id = :r", r=seeded["run"])
    kind, detail = problem_of(store)
    assert kind == "ledger_row" and f"run {seeded['run']} was changed" in detail
    assert "outcome" in detail


def test_forged_exception_with_a_correct_row_seal_is_named(store, store_url, seeded) -> None:
    row = {
        "check_id": "c.fail",
        "resource_pattern": "*",
        "target_pattern": "*",
        "reason": "forged",
        "approved_by": "nobody",
        "created_at": T0,
        "expires_at": T0 + 900 * HOUR,
        "created_by": "admin",
    }
    raw_sql(
        store_url,
        "INSERT INTO risk_exception (check_id, resource_pattern, target_pattern, reason,"
        " approved_by, created_at, expires_at, created_by, row_hash) VALUES (:check_id,"
        " :resource_pattern, :target_pattern, :reason, :approved_by, :created_at, :expires_at,"
        " :created_by, :row_hash)",
        **row,
        row_hash=row_seal(row),
    )
    kind, detail = problem_of(store)
    assert kind == "ledger_row" and "exception" in detail and "not in the ledger" in detail


def test_edited_transition_is_named(store, store_url, seeded) -> None:
    raw_sql(store_url, "UPDATE status_transition SET to_state = 'passing'")
    kind, detail = problem_of(store)
    assert kind == "ledger_row" and "status transition" in detail and "to_state" in detail
    raw_sql(store_url, "UPDATE status_transition SET to_state = 'failing'")
    raw_sql(store_url, "DELETE FROM status_transition")
    kind, detail = problem_of(store)
    assert kind == "ledger_row" and "deleted" in detail


def test_forged_tombstone_hiding_deleted_rows_is_named(store, store_url, seeded) -> None:
    first, second = seeded["records"][:2]
    raw_sql(store_url, "DELETE FROM evidence WHERE id <= :i", i=second.id)
    raw_sql(
        store_url,
        "INSERT INTO prune_tombstone (pruned_at, before, count, first_id, last_id, first_hash,"
        " last_hash, previous_hash) VALUES (:t, :t, 2, :a, :b, :ha, :hb, :g)",
        t=T0,
        a=first.id,
        b=second.id,
        ha=first.content_hash,
        hb=second.content_hash,
        g=first.previous_hash,
    )
    kind, detail = problem_of(store)
    assert kind == "ledger_row" and "prune tombstone" in detail


def test_edited_ledger_entry_is_named(store, store_url, seeded) -> None:
    raw_sql(store_url, "UPDATE ledger SET ref = 'x' WHERE id = (SELECT min(id) FROM ledger)")
    kind, _ = problem_of(store)
    assert kind == "ledger"


def test_ci_gate_and_verify_from_the_command_line(annexa_db, store_url) -> None:
    """The issue's attack: one UPDATE turned `status --fail-on failing` green while verify said
    intact. Status now reads only sealed records; editing one is named by verify."""
    from collector.clock import utcnow

    with EvidenceStore.open(store_url) as store:
        run = store.start_run(started_at=utcnow())
        store.append(
            NewEvidence(
                run_id=run,
                check_id="aws.s3.public_access_blocked",
                check_version=1,
                provider="aws",
                account="111122223333",
                region=None,
                collected_at=utcnow(),
                status="fail",
                summary="1 of 2 buckets failing",
                findings=FAILING,
                observations={},
            )
        )
        store.finish_run(run, finished_at=utcnow(), outcome="complete")
    assert annexa_db("status", "--fail-on", "failing")[0] == 1
    raw_sql(store_url, "UPDATE evidence SET passed = 2, failed = 0")  # unsealed: ignored
    assert annexa_db("status", "--fail-on", "failing")[0] == 1
    code, _, err = annexa_db("verify")
    assert code == 1 and "unsealed column passed" in err
    raw_sql(store_url, "UPDATE evidence SET passed = 1, failed = 1, status = 'pass'")
    code, _, err = annexa_db("verify")
    assert code == 1 and "verify failed (hash_mismatch)" in err


def test_edited_job_key_is_named(store, store_url) -> None:
    run = store.start_run(started_at=T0)
    record = evidence(run, check_id="c.fail")
    store.append_jobs([(f"c.fail@{record.target_key}@{T0.isoformat()}", record)])
    assert store.verify_report().problem is None
    raw_sql(store_url, f"UPDATE evidence SET job_key = 'c.other@{record.target_key}@x'")
    [stored] = store.history()
    assert store.verify_report().problem == IntegrityProblem(
        "unsealed_column",
        stored.id,
        f"unsealed column job_key = 'c.other@{record.target_key}@x' names another check or target",
    )


# -- the ledger, as an auditor checks it -------------------------------------------------------


def spec_hash(value: object) -> str:
    """SHA-256 of canonical JSON as docs/evidence-format.md defines it (no annexa code)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def ledger_rows(url: str) -> list[dict]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [r._asdict() for r in conn.execute(select(ledger_t).order_by(ledger_t.c.id))]
    engine.dispose()
    return rows


def test_ledger_is_the_chain_the_spec_describes(store, store_url, seeded) -> None:
    """Each entry hashes {kind, ref, body, previous_hash}; a body is the row without id and
    row_hash; the report's ledger count and head are the last entry's."""
    rows = ledger_rows(store_url)
    previous = "0" * 64
    for row in rows:
        fields = {k: row[k] for k in ("kind", "ref", "body")}
        assert row["previous_hash"] == previous
        assert row["entry_hash"] == spec_hash({**fields, "previous_hash": previous})
        previous = row["entry_hash"]
    [exception] = [r for r in rows if r["kind"] == "exception"]
    assert exception["ref"] == str(seeded["exception"].id)
    assert exception["body"] == {
        "check_id": "c.other",
        "resource_pattern": "*",
        "target_pattern": "*",
        "reason": "r",
        "approved_by": "ciso",
        "created_at": "2024-05-01T12:00:00.123456Z",
        "expires_at": "2024-05-05T06:00:00.123456Z",
        "created_by": "me",
    }
    report = store.verify_report()
    assert (report.problem, report.ledger, report.ledger_head) == (None, len(rows), previous)


def test_edited_or_unlinked_ledger_entry_is_named_exactly(store, store_url, seeded) -> None:
    first, second = (r["id"] for r in ledger_rows(store_url)[:2])
    raw_sql(store_url, "UPDATE ledger SET ref = 'x' WHERE id = :i", i=first)
    assert store.verify_report().problem == IntegrityProblem(
        "ledger", first, f"ledger entry #{first} was changed"
    )
    raw_sql(store_url, "DELETE FROM ledger WHERE id = :i", i=first)
    assert store.verify_report().problem == IntegrityProblem(
        "ledger", second, f"ledger entry #{second} does not continue the ledger chain"
    )


def test_edited_row_names_each_changed_column(store, store_url, seeded) -> None:
    run = seeded["run"]
    raw_sql(store_url, "UPDATE run SET outcome = 'partial', trigger = 'x' WHERE id = :r", r=run)
    assert store.verify_report().problem == IntegrityProblem(
        "ledger_row", None, f"run {run} was changed after it was recorded (outcome, trigger)"
    )


def test_row_added_behind_annexas_back_is_named_exactly(store, store_url, seeded) -> None:
    raw_sql(
        store_url,
        "INSERT INTO status_transition SELECT 7, control_id, from_state,"
        " to_state, at, reasons, alert_state, alerted_at FROM status_transition",
    )
    assert store.verify_report().problem == IntegrityProblem(
        "ledger_row", None, "status transition 7 is not in the ledger (added behind annexa's back)"
    )


@pytest.mark.parametrize(
    ("table", "label"),
    [
        ("run", "run"),
        ("manual_evidence", "manual evidence item"),
        ("risk_exception", "exception"),
        ("risk_exception_revocation", "revocation"),
        ("prune_tombstone", "prune tombstone"),
        ("status_transition", "status transition"),
    ],
)
def test_deleted_row_is_named_with_its_kind(store, store_url, table, label) -> None:
    """One row of every ledgered kind; deleting it is named (the newest such row)."""
    run = store.start_run(started_at=T0)
    store.append(evidence(run, at=T0))
    store.prune(T0 + HOUR, pruned_at=T0 + HOUR)
    store.finish_run(run, finished_at=T0, outcome="complete")
    add_manual(store, ["A.5.1"], b"policy")
    made = add_exception(store)
    add_exception(store, resource_pattern="kept")
    store.revoke_exception(made.id, revoked_at=T0, revoked_by="me", reason="done")
    store.record_transition("A.8.3", None, "failing", at=T0, alert=False)
    assert store.verify_report().problem is None
    ref = str(run) if table == "run" else "1" if table != "risk_exception" else "2"
    raw_sql(store_url, f"DELETE FROM {table} WHERE id = :ref", ref=ref)
    assert store.verify_report().problem == IntegrityProblem(
        "ledger_row", None, f"{label} {ref} is in the ledger but was deleted from the store"
    )
