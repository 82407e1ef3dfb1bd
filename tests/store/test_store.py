"""Append, chain, verify, latest, history and runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, text

from storage import GENESIS_HASH, EvidenceStore, NewEvidence, seal
from storage.records import ManualEvidence, RiskException
from storage.sealing import canonical_json

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def evidence(
    run_id: str,
    *,
    check_id: str = "aws.s3.public_access_blocked",
    region: str | None = "eu-west-1",
    at: datetime = T0,
    status: str = "pass",
    findings: list[dict] | None = None,
    observations: dict | None = None,
    error: str | None = None,
) -> NewEvidence:
    findings = (
        [{"resource": "arn:aws:s3:::a", "passed": True, "message": "blocked"}]
        if findings is None
        else findings
    )
    return NewEvidence(
        run_id=run_id,
        check_id=check_id,
        check_version=1,
        provider="aws",
        account="123456789012",
        region=region,
        collected_at=at,
        status=status,  # type: ignore[arg-type]
        summary=f"{len(findings)} buckets",
        findings=findings,
        observations={"buckets": ["a"]} if observations is None else observations,
        error=error,
    )


def add_exception(store: EvidenceStore, **values: object) -> RiskException:
    """An exception valid for an hour from T0; ``values`` override its fields."""
    fields = {
        "check_id": "c",
        "resource_pattern": "*",
        "target_pattern": "*",
        "reason": "r",
        "approved_by": "ciso",
        "created_at": T0,
        "expires_at": T0 + timedelta(hours=1),
        "created_by": "me",
        **values,
    }
    return store.add_exception(**fields)  # type: ignore[arg-type]


def add_manual(store: EvidenceStore, controls: list[str], content: bytes) -> list[ManualEvidence]:
    """Manual evidence ``content`` for ``controls``, valid for an hour from T0."""
    return store.add_manual(
        controls,
        content,
        file_name="p.txt",
        media_type="text/plain",
        note="",
        uploaded_at=T0,
        valid_until=T0 + timedelta(hours=1),
        uploaded_by="a",
    )


def raw_sql(url: str, statement: str, **params: object) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    engine.dispose()


def test_append_chains_records(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    records = [store.append(evidence(run, at=T0 + timedelta(minutes=i))) for i in range(3)]
    assert records[0].previous_hash == GENESIS_HASH
    assert [r.previous_hash for r in records[1:]] == [r.content_hash for r in records[:-1]]
    assert [r.id for r in records] == sorted(r.id for r in records)
    first = records[0]
    obs_hash = __import__("hashlib").sha256(canonical_json(first.observations)).hexdigest()
    assert first.content_hash == seal(first, GENESIS_HASH, obs_hash)
    assert store.count() == 3
    assert store.verify() == (3, None)


def test_append_many_continues_the_chain(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    first = store.append(evidence(run))
    batch = store.append_many(evidence(run, check_id=f"c{i}") for i in range(5))
    assert batch[0].previous_hash == first.content_hash
    assert store.append_many([]) == []
    assert store.verify() == (6, None)


def test_verify_names_a_tampered_status(store: EvidenceStore, store_url: str) -> None:
    run = store.start_run(started_at=T0)
    records = [store.append(evidence(run, at=T0 + timedelta(seconds=i))) for i in range(4)]
    raw_sql(store_url, "UPDATE evidence SET status = 'fail' WHERE id = :id", id=records[2].id)
    assert store.verify() == (4, records[2].id)


def test_verify_names_a_tampered_observation(store: EvidenceStore, store_url: str) -> None:
    run = store.start_run(started_at=T0)
    store.append(evidence(run, observations={"buckets": ["a"]}))
    target = store.append(evidence(run, observations={"buckets": ["b"]}))
    store.append(evidence(run, observations={"buckets": ["c"]}))
    cast = "CAST(:c AS JSON)" if store_url.startswith("postgresql") else ":c"
    raw_sql(
        store_url,
        f"UPDATE observation SET content = {cast} WHERE sha256 = :h",
        c='{"buckets":["b","x"]}',
        h=__import__("hashlib").sha256(canonical_json({"buckets": ["b"]})).hexdigest(),
    )
    assert store.verify() == (3, target.id)


def test_verify_names_a_broken_link(store: EvidenceStore, store_url: str) -> None:
    run = store.start_run(started_at=T0)
    records = [store.append(evidence(run, at=T0 + timedelta(seconds=i))) for i in range(3)]
    raw_sql(
        store_url,
        "UPDATE evidence SET previous_hash = :h WHERE id = :id",
        h="f" * 64,
        id=records[1].id,
    )
    assert store.verify() == (3, records[1].id)


def test_observations_are_stored_once(store: EvidenceStore, store_url: str) -> None:
    run = store.start_run(started_at=T0)
    snapshot = {"buckets": [{"name": "a", "created": T0}], "count": 1}
    a = store.append(evidence(run, check_id="a", observations=snapshot))
    b = store.append(evidence(run, check_id="b", observations=dict(snapshot)))
    engine = create_engine(store_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM observation")).scalar_one() == 1
        hashes = conn.execute(text("SELECT DISTINCT observations_hash FROM evidence")).all()
    engine.dispose()
    assert len(hashes) == 1
    stored = {r.check_id: r.observations for r in store.history()}
    assert (
        stored["a"]
        == stored["b"]
        == {"buckets": [{"name": "a", "created": "2024-05-01T12:00:00.123456Z"}], "count": 1}
    )
    assert a.observations is snapshot and b.content_hash != a.content_hash
    assert store.verify() == (2, None)


def test_latest_keeps_newest_per_check_and_target(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    failing = [
        {"resource": "r1", "passed": False, "message": "open"},
        {"resource": "r2", "passed": True, "message": "ok"},
    ]
    store.append(evidence(run, at=T0, status="pass"))
    store.append(evidence(run, at=T0 + timedelta(hours=1), status="fail", findings=failing))
    newest = store.append(
        evidence(run, at=T0 + timedelta(hours=2), status="error", findings=[], error="denied")
    )
    store.append(evidence(run, region=None, at=T0))
    store.append(evidence(run, check_id="other", at=T0))
    # An older record arriving late never moves the pointer backwards.
    store.append(evidence(run, at=T0 - timedelta(hours=5), status="pass"))

    summaries = {(s.check_id, s.target_key): s for s in store.latest()}
    assert set(summaries) == {
        ("aws.s3.public_access_blocked", "aws:123456789012:eu-west-1"),
        ("aws.s3.public_access_blocked", "aws:123456789012"),
        ("other", "aws:123456789012:eu-west-1"),
    }
    s = summaries[("aws.s3.public_access_blocked", "aws:123456789012:eu-west-1")]
    assert (s.status, s.evidence_id, s.error) == ("error", newest.id, "denied")
    assert s.collected_at == T0 + timedelta(hours=2)
    assert s.last_conclusive_at == T0 + timedelta(hours=1)
    assert (s.passed, s.failed, s.region, s.provider) == (0, 0, "eu-west-1", "aws")
    assert [x.check_id for x in store.latest(["other"])] == ["other"]
    assert store.latest([]) == []


def test_latest_counts_findings_and_batches(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    failing = [
        {"resource": "r1", "passed": False, "message": "open"},
        {"resource": "r2", "passed": True, "message": "ok"},
    ]
    store.append_many(
        [
            evidence(run, at=T0, status="pass"),
            evidence(run, at=T0 + timedelta(hours=1), status="fail", findings=failing),
            evidence(run, at=T0 + timedelta(hours=2), status="error", findings=[], error="x"),
        ]
    )
    store.append(evidence(run, at=T0 + timedelta(hours=3), status="error", error="y"))
    [s] = store.latest()
    assert (s.status, s.error, s.last_conclusive_at) == ("error", "y", T0 + timedelta(hours=1))
    store.append(evidence(run, at=T0 + timedelta(hours=4), status="fail", findings=failing))
    [s] = store.latest()
    assert (s.status, s.passed, s.failed) == ("fail", 1, 1)
    assert s.last_conclusive_at == T0 + timedelta(hours=4)


def test_datetimes_round_trip_aware_utc(store: EvidenceStore) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    local = datetime(2024, 1, 1, 17, 30, 0, 654321, tzinfo=ist)
    run = store.start_run(started_at=local)
    record = store.append(evidence(run, at=local))
    assert record.collected_at == local and record.collected_at.tzinfo == UTC
    [stored] = store.history()
    assert stored.collected_at == local and stored.collected_at.tzinfo == UTC
    assert stored == record
    started = store.get_run(run).started_at  # type: ignore[union-attr]
    assert started == local and started.tzinfo == UTC
    [s] = store.latest()
    assert s.collected_at.tzinfo == UTC and s.last_conclusive_at == local
    assert store.verify() == (1, None)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.append(evidence(run, at=datetime(2024, 1, 1)))


def test_history_filters_and_orders_newest_first(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    for i in range(6):
        store.append(evidence(run, check_id=f"c{i % 2}", at=T0 + timedelta(hours=i)))
    assert [r.collected_at for r in store.history()] == [
        T0 + timedelta(hours=i) for i in reversed(range(6))
    ]
    c0 = store.history(check_ids=["c0"])
    assert [r.collected_at.hour - T0.hour for r in c0] == [4, 2, 0]
    window = store.history(since=T0 + timedelta(hours=1), until=T0 + timedelta(hours=3))
    assert [r.collected_at.hour - T0.hour for r in window] == [3, 2, 1]
    assert len(store.history(limit=2)) == 2
    assert len(store.history(limit=None)) == 6
    assert store.history(check_ids=[]) == []


def test_any_between_says_whether_count_between_finds_a_record(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    for i in range(4):
        store.append(evidence(run, check_id=f"c{i % 2}", at=T0 + timedelta(hours=i)))
    far = T0 + timedelta(days=400)
    for start, end, checks in [
        (T0, far, None),
        (T0 + timedelta(hours=3), far, None),  # the last record, at the start
        (T0 + timedelta(hours=3, seconds=1), far, None),
        (T0 - timedelta(days=1), T0, None),  # the first record, at the (open) end
        (T0 + timedelta(hours=3), far, ["c0"]),  # c0's are at 0 h and 2 h
        (T0 + timedelta(hours=2), far, ["c0", "x"]),
        (T0, far, []),
    ]:
        found = store.count_between(start, end, check_ids=checks)
        assert store.any_between(start, end, check_ids=checks) is (found > 0), (start, checks)


def test_runs_start_and_finish(store: EvidenceStore) -> None:
    first = store.start_run(started_at=T0, trigger="daemon", planned=4)
    second = store.start_run(started_at=T0 + timedelta(hours=1))
    store.append(evidence(first))
    store.append(evidence(first, check_id="x"))
    store.finish_run(first, finished_at=T0 + timedelta(minutes=5), outcome="partial")

    run = store.get_run(first)
    assert run is not None
    assert (run.outcome, run.trigger, run.planned, run.records) == ("partial", "daemon", 4, 2)
    assert run.finished_at == T0 + timedelta(minutes=5)
    assert run.pid > 0 and run.host
    assert [(r.id, r.records) for r in store.runs()] == [(second, 0), (first, 2)]
    assert store.runs(limit=1)[0].outcome == "running"
    store.append(evidence(second, check_id="y"))
    # each listed run counts its own records, whatever the limit
    assert [(r.id, r.records) for r in store.runs(limit=1)] == [(second, 1)]
    assert [(r.id, r.records) for r in store.runs()] == [(second, 1), (first, 2)]
    assert store.get_run("nope") is None
    with pytest.raises(KeyError):
        store.finish_run("nope", finished_at=T0, outcome="complete")


def test_reconcile_leaves_live_runs_alone(store: EvidenceStore) -> None:
    run = store.start_run(started_at=datetime.now(UTC))
    assert store.reconcile_interrupted() == []
    assert store.get_run(run).outcome == "running"  # type: ignore[union-attr]


def test_history_of_several_checks_is_the_newest_across_them(store):
    """``history(check_ids=..., limit=N)``: the N newest records of those checks together,
    newest first, inside ``[since, until]``, whichever check they belong to."""
    run = store.start_run(started_at=T0)
    a, b, other = "aws.s3.public_access_blocked", "aws.iam.root_mfa_enabled", "aws.x.other"
    hours = {a: (1, 2, 3, 10), b: (4, 5, 11), other: (6, 12)}
    store.append_many(
        evidence(run, check_id=check, at=T0 + timedelta(hours=h))
        for check, times in hours.items()
        for h in times
    )

    def shown(**window):
        found = store.history(check_ids=[a, b], **window)
        return [(r.check_id, int((r.collected_at - T0) / timedelta(hours=1))) for r in found]

    assert shown(limit=3) == [(b, 11), (a, 10), (b, 5)]
    assert shown(limit=3, until=T0 + timedelta(hours=9)) == [(b, 5), (b, 4), (a, 3)]
    assert shown(limit=10, since=T0 + timedelta(hours=3), until=T0 + timedelta(hours=10)) == [
        (a, 10),
        (b, 5),
        (b, 4),
        (a, 3),
    ]
    assert shown(limit=None) == shown(limit=100)
