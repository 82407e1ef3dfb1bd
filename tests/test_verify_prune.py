"""``verify`` names what is broken; ``prune`` leaves a tombstone so the rest still verifies.
Store level and CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from storage import GENESIS_HASH, EvidenceStore
from storage.records import Checkpoint, Heads, IntegrityProblem
from storage.sealing import canonical_json
from tests.store.test_store import T0, add_exception, add_manual, evidence, raw_sql

HOUR = timedelta(hours=1)


def count(url: str, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        n = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return n


def seed(store: EvidenceStore, n: int = 6) -> list:
    """``n`` records, one per hour from T0, alternating checks a/b, own observations each."""
    run = store.start_run(started_at=T0)
    return [
        store.append(evidence(run, check_id="ab"[i % 2], at=T0 + i * HOUR, observations={"i": i}))
        for i in range(n)
    ]


def test_verify_report_kinds(store: EvidenceStore, store_url: str) -> None:
    records = seed(store, 4)
    report = store.verify_report()
    assert (report.records, report.problem) == (4, None) and report.intact
    raw_sql(store_url, "UPDATE evidence SET summary = 'edited' WHERE id = :id", id=records[1].id)
    assert store.verify_report().problem == IntegrityProblem(
        "hash_mismatch",
        records[1].id,
        "content does not match its hash (a sealed field was changed)",
    )
    assert store.verify() == (4, records[1].id)


def test_verify_names_observation_content(store: EvidenceStore, store_url: str) -> None:
    records = seed(store, 3)
    cast = "CAST(:c AS JSON)" if store_url.startswith("postgresql") else ":c"
    digest = hashlib.sha256(canonical_json({"i": 2})).hexdigest()
    raw_sql(
        store_url,
        f"UPDATE observation SET content = {cast} WHERE sha256 = :h",
        c='{"i":99}',
        h=digest,
    )
    assert store.verify_report().problem == IntegrityProblem(
        "observation_content",
        records[2].id,
        f"observations {digest[:12]} no longer match their SHA-256",
    )


def test_verify_checks_blobs_and_item_seals(store: EvidenceStore, store_url: str) -> None:
    [item] = store.add_manual(
        ["A.5.1"],
        b"original",
        file_name="p.txt",
        media_type="text/plain",
        note="",
        uploaded_at=T0,
        valid_until=T0 + HOUR,
        uploaded_by="a",
    )
    report = store.verify_report()
    assert (report.blobs, report.items, report.problem) == (1, 1, None)
    raw_sql(store_url, "UPDATE manual_evidence SET valid_until = :t", t=T0 + 900 * HOUR)
    problem = store.verify_report().problem
    assert (problem.kind, problem.record_id) == ("row_seal", item.id)
    raw_sql(store_url, "UPDATE evidence_blob SET content = :c", c=b"forged")
    problem = store.verify_report().problem
    assert problem.kind == "blob_content" and item.sha256 in problem.detail


def test_prune_leaves_a_tombstone_and_a_verifiable_chain(
    store: EvidenceStore, store_url: str
) -> None:
    records = seed(store, 6)
    before = T0 + 3 * HOUR
    assert store.prunable(before) == 3
    tomb = store.prune(before, pruned_at=T0 + 10 * HOUR)
    assert tomb is not None
    assert (tomb.count, tomb.first_id, tomb.last_id) == (3, records[0].id, records[2].id)
    assert (tomb.first_hash, tomb.last_hash) == (records[0].content_hash, records[2].content_hash)
    assert tomb.previous_hash == GENESIS_HASH and tomb.before == before
    assert store.count() == 3
    assert store.tombstones() == [tomb]
    report = store.verify_report()
    assert (report.records, report.tombstones, report.problem) == (3, 1, None)
    assert count(store_url, "observation") == 3  # the pruned records' own snapshots are gone
    assert count(store_url, "run") == 1  # runs are kept
    # The chain goes on after the prune, and a second prune chains onto the first tombstone.
    later = store.append(evidence(records[0].run_id, at=T0 + 7 * HOUR))
    assert later.previous_hash == records[5].content_hash
    second = store.prune(T0 + 5 * HOUR, pruned_at=T0 + 11 * HOUR)
    assert second is not None and second.previous_hash == tomb.last_hash
    assert store.verify_report().problem is None
    assert store.prune(T0, pruned_at=T0 + 12 * HOUR) is None


def test_prune_keeps_latest_consistent(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    old = store.append(evidence(run, check_id="gone", at=T0))
    store.append(evidence(run, check_id="kept", at=T0 + HOUR))
    kept_new = store.append(evidence(run, check_id="kept", at=T0 + 5 * HOUR))
    # appended late with an old time: not prunable while a newer-collected record precedes it
    late = store.append(evidence(run, check_id="late", at=T0 + HOUR))
    store.prune(T0 + 2 * HOUR, pruned_at=T0 + 9 * HOUR)
    assert [r.id for r in store.history(limit=None)] == [kept_new.id, late.id]
    latest = {s.check_id: s.evidence_id for s in store.latest()}
    assert latest == {"kept": kept_new.id, "late": late.id}  # "gone" disappears
    assert old.id not in latest.values()
    assert store.verify_report().problem is None


def test_prune_repoints_to_a_remaining_record(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    store.append(evidence(run, at=T0 + 5 * HOUR, status="pass"))  # latest by time, id 1
    store.append(evidence(run, check_id="x", at=T0 + 9 * HOUR))  # keeps everything after it
    survivor = store.append(evidence(run, at=T0 + 4 * HOUR, status="error", error="denied"))
    store.prune(T0 + 6 * HOUR, pruned_at=T0 + 10 * HOUR)
    [s] = [s for s in store.latest() if s.check_id != "x"]
    assert (s.evidence_id, s.status, s.last_conclusive_at) == (survivor.id, "error", None)


def test_prune_everything_then_append(store: EvidenceStore) -> None:
    records = seed(store, 2)
    tomb = store.prune(T0 + 10 * HOUR, pruned_at=T0 + 10 * HOUR)
    assert tomb is not None and store.count() == 0 and store.latest() == []
    new = store.append(evidence(records[0].run_id, at=T0 + 11 * HOUR))
    assert new.previous_hash == tomb.last_hash
    assert store.verify_report().problem is None


def test_verify_notices_a_forged_tombstone(store: EvidenceStore, store_url: str) -> None:
    first = seed(store, 4)[2]  # the first remaining record no longer links
    store.prune(T0 + 2 * HOUR, pruned_at=T0 + 5 * HOUR)
    raw_sql(store_url, "UPDATE prune_tombstone SET last_hash = :h", h="e" * 64)
    assert store.verify_report().problem == IntegrityProblem(
        "chain_link",
        first.id,
        f"chain link broken: previous hash {first.previous_hash[:12]} != hash of the record "
        "before it eeeeeeeeeeee",
    )


def test_verify_names_a_tombstone_that_does_not_continue_the_chain(store, store_url) -> None:
    records = seed(store, 4)
    store.prune(T0 + HOUR, pruned_at=T0 + 5 * HOUR)
    second = store.prune(T0 + 3 * HOUR, pruned_at=T0 + 5 * HOUR)
    assert second is not None
    raw_sql(
        store_url,
        "UPDATE prune_tombstone SET previous_hash = :h WHERE id = :i",
        h="d" * 64,
        i=second.id,
    )
    assert store.verify_report().problem == IntegrityProblem(
        "tombstone",
        second.id,
        f"prune tombstone #{second.id} does not continue the chain (expected previous hash "
        f"{records[0].content_hash[:12]}, found dddddddddddd)",
    )


def test_verify_report_counts_positions_and_heads(store: EvidenceStore) -> None:
    """Pruned records still count in the chain's position; the head is the newest record's."""
    records = seed(store, 5)
    store.prune(T0 + HOUR, pruned_at=T0 + 9 * HOUR)
    store.prune(T0 + 2 * HOUR, pruned_at=T0 + 9 * HOUR)
    calls: list[tuple[int, int]] = []
    report = store.verify_report(batch=2, progress=lambda done, total: calls.append((done, total)))
    assert report.problem is None and calls == [(2, 3)]
    assert (report.records, report.tombstones, report.position, report.unanchored) == (3, 2, 5, 5)
    assert (report.head, report.checkpoints) == (records[-1].content_hash, 0)
    ledger = store.heads()
    assert (report.ledger, report.ledger_head) == (ledger.ledger, ledger.ledger_head)
    assert report.ledger == 3  # the run's start and the two tombstones
    assert store.verify_report(batch=2).problem is None  # no progress asked for


def test_verify_names_each_sealed_row_and_blob_exactly(store, store_url) -> None:
    first, second = add_manual(store, ["A.5.1", "A.5.2"], b"original")
    [other] = add_manual(store, ["A.5.3"], b"other")
    made = add_exception(store)
    store.revoke_exception(made.id, revoked_at=T0, revoked_by="me", reason="done")
    report = store.verify_report()
    assert (report.blobs, report.items, report.problem) == (2, 5, None)
    # rows are checked manual items first, then exceptions, then revocations
    for table, label, id_ in (
        ("risk_exception_revocation", "revocation", 1),
        ("risk_exception", "exception", made.id),
        ("manual_evidence", "manual evidence item", other.id),
    ):
        raw_sql(store_url, f"UPDATE {table} SET row_hash = :h WHERE id = :i", h="0" * 64, i=id_)
        assert store.verify_report().problem == IntegrityProblem(
            "row_seal", id_, f"{label} #{id_} was changed after it was recorded"
        )
    raw_sql(store_url, "UPDATE evidence_blob SET size = 1 WHERE sha256 = :h", h=first.sha256)
    assert store.verify_report().problem == IntegrityProblem(
        "blob_content",
        None,
        f"manual evidence file {first.sha256} no longer matches its SHA-256 "
        f"(items #{first.id}, #{second.id})",
    )


def cp(heads: Heads, name: str = "", **changes: object) -> Checkpoint:
    """A checkpoint of ``heads`` (signatures are the caller's: verify_report takes them as
    checked)."""
    values = {
        "records": heads.records,
        "head": heads.head,
        "ledger": heads.ledger,
        "ledger_head": heads.ledger_head,
        **changes,
    }
    return Checkpoint(T0, key="SHA256:k", name=name, **values)  # type: ignore[arg-type]


def checkpoint_problem(store: EvidenceStore, *checkpoints: Checkpoint) -> IntegrityProblem | None:
    return store.verify_report(checkpoints=checkpoints).problem


def test_checkpoint_disagreements_are_named_exactly(store, store_url) -> None:
    records = seed(store, 3)
    heads = store.heads()
    report = store.verify_report(checkpoints=[cp(heads, "a.json")])
    assert (report.problem, report.checkpoints, report.unanchored) == (None, 1, 0)
    n = heads.ledger
    expected = {
        "covers 5 records, the store holds 3: records were deleted from the end (truncated)": {
            "records": 5
        },
        f"record 3 of the chain has hash {records[2].content_hash[:12]}, the checkpoint "
        "signed ffffffffffff (history rewritten or records inserted)": {"head": "f" * 64},
        f"covers {n + 1} ledger entries, the store holds {n}: ledger entries were deleted": {
            "ledger": n + 1
        },
        f"the ledger at entry {n} differs from the signed head": {"ledger_head": "f" * 64},
    }
    for detail, changes in expected.items():
        sep = " " if detail.startswith("covers") else ": "
        assert checkpoint_problem(store, cp(heads, "a.json", **changes)) == IntegrityProblem(
            "checkpoint", None, f"checkpoint a.json{sep}{detail}"
        )
    # the first disagreeing checkpoint is named; one without a name by its time
    assert checkpoint_problem(store, cp(heads, "b.json", records=9), cp(heads, ledger=n + 9)) == (
        IntegrityProblem(
            "checkpoint",
            None,
            f"checkpoint 2024-05-01T12:00:00.123456Z covers {n + 9} ledger entries, the store "
            f"holds {n}: ledger entries were deleted",
        )
    )


def test_a_checkpoint_at_a_tombstone_verifies(store) -> None:
    """Everything pruned: the checkpoint's head is the tombstone's last hash."""
    records = seed(store, 3)
    store.prune(T0 + 9 * HOUR, pruned_at=T0 + 9 * HOUR)
    heads = store.heads()
    assert (heads.records, heads.head) == (3, records[-1].content_hash)
    assert checkpoint_problem(store, cp(heads)) is None


def test_what_follows_the_newest_checkpoint(store, store_url) -> None:
    """After it: records of a finished run are forgeries, an exception is unanchored, a
    transition or a new run's records are merely not anchored yet."""
    run = store.start_run(started_at=T0)
    store.append(evidence(run, at=T0))
    store.finish_run(run, finished_at=T0, outcome="complete")
    heads = store.heads()
    store.record_transition("A.8.3", None, "failing", at=T0, alert=False)
    later = store.start_run(started_at=T0 + HOUR)
    store.append(evidence(later, at=T0 + HOUR))
    report = store.verify_report(checkpoints=[cp(heads)])
    assert (report.problem, report.unanchored) == (None, 1)
    made = add_exception(store)
    assert checkpoint_problem(store, cp(heads)) == IntegrityProblem(
        "unanchored",
        None,
        f"exception {made.id} (ledger entry {heads.ledger + 3}) is not covered by any "
        "checkpoint, though annexa anchors each one as it is written",
    )
    forged = store.append(evidence(run, at=T0 + HOUR))  # to the run finished before it
    assert checkpoint_problem(store, cp(heads)) == IntegrityProblem(
        "unanchored",
        forged.id,
        f"record {forged.id} was appended after the newest checkpoint, to run {run}, which "
        "had finished before it (appended forgery)",
    )


def test_refresh_summary_derives_a_disagreeing_summary_again(store, store_url) -> None:
    seed(store, 3)
    assert store.refresh_summary() is False
    raw_sql(store_url, "UPDATE evidence_run SET status = 'fail'")
    assert store.refresh_summary() is True
    assert store.refresh_summary() is False
    assert {s.status for s in store.latest()} == {"pass"}


# -- CLI ----------------------------------------------------------------------------------


def test_cli_verify_intact_and_broken(annexa_db, store_url: str) -> None:
    with EvidenceStore.open(store_url) as store:
        records = seed(store, 3)
    code, out, _ = annexa_db("verify")
    assert code == 0 and "3 records verified, chain intact" in out
    raw_sql(store_url, "UPDATE evidence SET status = 'fail' WHERE id = :id", id=records[1].id)
    code, _, err = annexa_db("verify")
    assert code == 1
    assert f"verify failed (hash_mismatch): record {records[1].id}:" in err


def test_cli_verify_names_a_tampered_observation(annexa_db, store_url: str) -> None:
    with EvidenceStore.open(store_url) as store:
        records = seed(store, 2)
    cast = "CAST(:c AS JSON)" if store_url.startswith("postgresql") else ":c"
    raw_sql(
        store_url,
        f"UPDATE observation SET content = {cast} WHERE sha256 = :h",
        c='{"i":7}',
        h=hashlib.sha256(canonical_json({"i": 0})).hexdigest(),
    )
    code, _, err = annexa_db("verify")
    assert code == 1 and f"(observation_content): record {records[0].id}:" in err


def test_cli_prune_refuses_without_terminal_then_prunes_with_yes(annexa_db, store_url) -> None:
    with EvidenceStore.open(store_url) as store:
        seed(store, 4)
    code, _, err = annexa_db("prune", "--before", "2024-05-01T14:00:00Z")
    assert code == 2 and "pass --yes" in err and err.count("\n") == 1
    assert count(store_url, "evidence") == 4
    code, out, _ = annexa_db("prune", "--before", "2024-05-01T14:00:00Z", "--yes")
    assert code == 0 and "pruned 2 records" in out
    code, out, _ = annexa_db("verify")
    assert code == 0 and "2 records verified, chain intact" in out and "1 prune tombstones" in out
    code, out, _ = annexa_db("evidence", "show", "--check", "aws.s3.public_access_blocked")
    assert code == 0


@pytest.mark.parametrize("answer", ["y\n", "n\n"])
def test_cli_prune_asks_on_a_terminal(annexa, tmp_path, monkeypatch, answer) -> None:
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    with EvidenceStore.open(url) as store:
        seed(store, 2)
    stdin = io.StringIO(answer)
    stdin.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdin", stdin)
    code, out, _ = annexa("--database", url, "prune", "--before", "2024-05-02")
    assert "Delete 2 evidence records collected before 2024-05-02T00:00:00+00:00?" in out
    if answer == "y\n":
        assert code == 0 and count(url, "evidence") == 0
    else:
        assert code == 130 and count(url, "evidence") == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["prune", "--before", "yesterday"], "--before: 'yesterday' is not a date or time"),
        (["prune", "--before", "2999-01-01", "--yes"], "is in the future"),
    ],
)
def test_cli_prune_bad_input(annexa, args, expected) -> None:
    code, _, err = annexa(*args)
    assert code == 2 and expected in err and err.count("\n") == 1


def test_cli_runs_survive_prune(annexa_db, store_url) -> None:
    with EvidenceStore.open(store_url) as store:
        seed(store, 2)
    annexa_db("prune", "--before", "2025-01-01", "--yes")
    code, out, _ = annexa_db("runs", "--format", "json")
    assert code == 0 and json.loads(out)[0]["records"] == 0
