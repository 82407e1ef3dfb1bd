"""The run summary (``storage.summary``) is a cache of the sealed records: reads through it give
exactly what the records give (latest evidence at an instant, a period's compressed timeline,
``status --at`` and ``--from/--to`` with exceptions, manual evidence, stale and error spells),
as records arrive, arrive dated in the past (buffered evidence) and are pruned; and what
appends maintain equals a fresh derivation."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from sqlalchemy import delete, update

from collector.app import load_workspace
from collector.audit import status_over_period, statuses_at
from collector.settings import load_settings
from storage import EvidenceStore
from storage.base import run_state_t, run_summary_t
from storage.summary import covers, matches, rebuild
from tests.web.test_web_cache import _records

T = TypeVar("T")
T0 = datetime(2025, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


def by_records(store: EvidenceStore, read: Callable[[], T]) -> T:
    """``read()`` with the summary set aside (the records path), then derived again."""
    with store._write() as conn:
        conn.execute(delete(run_state_t))
    try:
        with store.engine.connect() as conn:
            assert not covers(conn)
        return read()
    finally:
        with store._write() as conn:
            rebuild(conn)


def by_key(items) -> list:
    return sorted(items, key=lambda s: (s.check_id, s.target_key, s.collected_at))


def agree(store: EvidenceStore, checks: tuple[str, ...], max_ages: dict) -> None:
    """The summary covers the store, equals a fresh derivation, and every read agrees."""
    with store.engine.connect() as conn:
        assert covers(conn)
        assert matches(conn)
    instants = [T0 - DAY, T0 + 3 * DAY, T0 + 11.3 * DAY, T0 + 30 * DAY, T0 + 400 * DAY, None]
    periods = [(T0, T0 + 20 * DAY), (T0 + 5.5 * DAY, T0 + 9 * DAY), (T0 + 12 * DAY, T0 + 400 * DAY)]

    def reads() -> list:
        found: list = [store.latest_at(at) for at in instants]
        found += [store.latest_at(T0 + 8 * DAY, checks[:1]), store.latest(checks[1:])]
        for start, end in periods:
            found.append(by_key(store.timeline(start, end, check_ids=checks, max_ages=max_ages)))
        return found

    fast = reads()
    assert fast == by_records(store, reads)
    assert any(fast[:-4]) and fast[-4]  # not vacuous


def test_reads_through_the_summary_equal_the_records(store: EvidenceStore) -> None:
    checks = ("aws.c.hourly", "aws.c.daily", "aws.c.never_stale")
    max_ages = {checks[0]: timedelta(hours=2), checks[1]: timedelta(hours=48), checks[2]: None}
    rng = random.Random(18)
    run = store.start_run(started_at=T0)
    records = _records(run, rng, T0, 60)
    for start in range(0, len(records), 50):  # appends extend the summary batch by batch
        store.append_many(records[start : start + 50])
    agree(store, checks, max_ages)
    later = _records(run, rng, records[-1].collected_at, 20)
    store.append_many(later[:5])
    # buffered evidence: dated before what its (check, target) already has
    late = [r for r in _records(run, rng, T0 + 2 * DAY, 3) if r.check_id == checks[1]]
    store.append_many([*late, *later[5:]])
    agree(store, checks, max_ages)
    assert store.prune(T0 + 4 * DAY, pruned_at=T0 + 500 * DAY) is not None
    agree(store, checks, max_ages)


def test_every_summary_carries_its_own_records_findings(store: EvidenceStore) -> None:
    """Reads parse each distinct findings text once: every summary they give (latest at an
    instant, a period's timeline through the summary and through the records) still has the
    finding counts and failing resources of its own sealed record, where (check, target)s
    share a text and where one's text changes from record to record."""
    from storage.base import failing_resources

    run = store.start_run(started_at=T0)
    store.append_many(_records(run, random.Random(5), T0, 40))
    checks = ("aws.c.hourly", "aws.c.daily", "aws.c.never_stale")
    max_ages = {checks[0]: timedelta(hours=2), checks[1]: timedelta(hours=48), checks[2]: None}

    def reads() -> list:
        found = [s for at in (T0 + 5 * DAY, None) for s in store.latest_at(at)]
        found += store.timeline(T0 + DAY, T0 + 30 * DAY, check_ids=checks, max_ages=max_ages)
        found += store.timeline(T0 + DAY, T0 + 30 * DAY, check_ids=checks)
        return found

    found = [*reads(), *by_records(store, reads)]
    texts = set()
    for summary in found:
        findings = store.record_by_id(summary.evidence_id).findings
        passed = sum(1 for f in findings if f["passed"])
        verdict = (passed, len(findings) - passed, failing_resources(findings))
        assert (summary.passed, summary.failed, summary.failing_resources) == verdict
        texts.add(repr(findings))
    assert len(found) > 3 * len(texts) > 6  # texts repeat across pairs and records


def test_a_replicas_copied_records_are_read_from_the_records(store: EvidenceStore, tmp_path):
    """Records copied into a replica (inserted as they are, not appended) leave the summary
    behind: it no longer covers the store, later appends do not extend it, reads use the
    records and still agree with the source."""
    from storage.replica import copy_records, copy_runs

    run = store.start_run(started_at=T0)
    store.append_many(_records(run, random.Random(1), T0, 10))
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'replica.sqlite'}") as replica:
        copy_runs(replica, store.runs())
        copy_records(replica, reversed(store.history(limit=None)))
        with replica.engine.connect() as conn:
            assert not covers(conn)
        assert replica.latest_at(T0 + 2 * DAY) == store.latest_at(T0 + 2 * DAY)
        assert replica.latest() == store.latest()


def test_status_at_and_over_a_period_equal_the_records(store: EvidenceStore, tmp_path) -> None:
    """``status --at`` and ``--from/--to`` through the summary equal the records', over real
    checks with exceptions (one revoked), manual evidence, stale and error spells, a prune."""
    config = tmp_path / "annexa.yaml"
    config.write_text("{}\n")
    workspace = load_workspace(load_settings(config))
    checks = tuple(sorted({c for c, _, _ in workspace.mapping.pairs()}))[:3]
    run = store.start_run(started_at=T0)
    records = _records(run, random.Random(7), T0, 60)
    records = [
        r.__class__(**{**r.__dict__, "check_id": checks[i % 3]}) for i, r in enumerate(records)
    ]
    store.append_many(sorted(records, key=lambda r: r.collected_at))
    made = store.add_exception(
        check_id=checks[0],
        resource_pattern="arn:aws:s3:::b0",
        target_pattern="*",
        reason="migration",
        approved_by="CISO",
        created_at=T0 + 2 * DAY,
        expires_at=T0 + 40 * DAY,
        created_by="alice",
    )
    store.revoke_exception(made.id, revoked_at=T0 + 9 * DAY, revoked_by="bob", reason="done")
    store.add_exception(
        check_id=checks[1],
        resource_pattern="*",
        target_pattern="*",
        reason="accepted",
        approved_by="CISO",
        created_at=T0 + 4 * DAY,
        expires_at=T0 + 12 * DAY,
        created_by="alice",
    )
    control = next(iter(workspace.mapping.controls_for(checks[0])))
    store.add_manual(
        [control, "A.5.1"],
        b"policy",
        file_name="policy.pdf",
        media_type="application/pdf",
        note="",
        uploaded_at=T0 + DAY,
        valid_until=T0 + 6 * DAY,
        uploaded_by="alice",
    )
    assert store.prune(T0 + DAY, pruned_at=T0 + 100 * DAY) is not None

    def reads() -> list:
        found: list = [
            statuses_at(workspace, store, None, T0 + days * DAY) for days in (0.5, 3, 5.2, 10, 90)
        ]
        for start, end in ((T0, T0 + 30 * DAY), (T0 + 3 * DAY, T0 + 8.5 * DAY)):
            found.append(status_over_period(workspace, store, None, start=start, end=end, at=end))
        return found

    fast = reads()
    assert fast == by_records(store, reads)
    states = {r.state.value for found in fast[:5] for s in found for r in s.reasons}
    assert {"failing", "passing", "error", "stale", "accepted"} <= states


@pytest.mark.parametrize(
    "tampered", [{"status": "pass"}, {"summary": "all fine", "failed": 0, "error": None}]
)
def test_verify_derives_a_summary_that_disagrees_with_the_records_again(store, annexa_db, tampered):
    """The summary is never trusted over the records: ``annexa verify`` finds one that does
    not match them (here: a run's status, or what its first record shows, changed behind the
    store's back) and derives it again, after which the reads agree with the records."""
    run = store.start_run(started_at=T0)
    store.append_many(_records(run, random.Random(3), T0, 20))
    with store._write() as conn:
        conn.execute(update(run_summary_t).values(**tampered))
    with store.engine.connect() as conn:
        assert covers(conn) and not matches(conn)
    code, _, err = annexa_db("verify")
    assert code == 0, err
    assert "did not match the records; derived it again" in " ".join(err.split())
    with store.engine.connect() as conn:
        assert matches(conn)
    assert "did not match" not in annexa_db("verify")[2]


def test_a_periods_runs_show_their_first_records(store: EvidenceStore) -> None:
    """A period read through the summary takes each run starting in it without reading its
    records: each still shows its first record (summary text, finding counts, error cause,
    account and region), where later records of the run differ in all of those."""
    from dataclasses import replace

    from tests.store.test_store import evidence

    run = store.start_run(started_at=T0)
    ok = {"resource": "arn:aws:s3:::a", "passed": True, "message": "ok"}
    made = [
        evidence(run, at=T0 + HOUR, findings=[ok, {**ok, "resource": "arn:aws:s3:::b"}]),
        evidence(run, at=T0 + 2 * HOUR, findings=[ok]),  # same verdict, fewer resources
        evidence(run, at=T0 + 3 * HOUR, status="error", findings=[], error="AccessDenied: s3"),
        evidence(run, at=T0 + 4 * HOUR, status="error", findings=[], error="Throttling: s3"),
    ]
    made[1] = replace(made[1], summary="1 bucket, renamed")
    store.append_many(made)
    checks = (made[0].check_id,)
    max_ages = {checks[0]: timedelta(days=2)}

    def read() -> list:
        return by_key(store.timeline(T0, T0 + DAY, check_ids=checks, max_ages=max_ages))

    heads = read()
    assert heads == by_records(store, read)
    shown = [(s.status, s.summary, s.passed, s.failed, s.error, s.region) for s in heads]
    assert shown == [
        ("pass", "2 buckets", 2, 0, None, "eu-west-1"),
        ("error", "0 buckets", 0, 0, "AccessDenied: s3", "eu-west-1"),
    ]
    ids = sorted(r.id for r in store.history(limit=None))
    assert [s.evidence_id for s in heads] == [ids[0], ids[2]]


def test_a_store_at_0006_gets_its_run_heads_derived(store_url: str) -> None:
    """Opening a store whose run summary has no first-record columns (migration 0006) derives
    them from the records (migration 0007); reads through it equal the records'."""
    from alembic import command

    from storage.migrate import alembic_config, current_revision, head_revision

    with EvidenceStore.open(store_url) as store:
        run = store.start_run(started_at=T0)
        store.append_many(_records(run, random.Random(11), T0, 30))
    config = alembic_config(store_url)
    command.downgrade(config, "0006")
    assert current_revision(store_url) == "0006"
    with EvidenceStore.open(store_url) as store:
        assert current_revision(store_url) == head_revision()
        checks = ("aws.c.hourly", "aws.c.daily", "aws.c.never_stale")
        max_ages = {checks[0]: timedelta(hours=2), checks[1]: timedelta(hours=48), checks[2]: None}
        agree(store, checks, max_ages)
