"""One record per job key (``check@target@slot``): what makes a redelivered Celery task
idempotent. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from storage import EvidenceStore
from tests.store.test_store import evidence

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
KEY = "aws.s3.public_access_blocked@aws:123456789012:eu-west-1"


def slot(n: int) -> str:
    return f"{KEY}@2026-01-05T09:0{n}:00.000000+00:00"


def test_a_job_key_is_stored_once(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    first = store.append_jobs([(slot(0), evidence(run))])
    again = store.append_jobs([(slot(0), evidence(run, status="fail", findings=[]))])
    both = store.append_jobs([(slot(0), evidence(run)), (slot(1), evidence(run))])
    assert len(first) == 1 and again == []
    assert [r.id for r in both] == [first[0].id + 1]  # only the new slot
    assert store.count() == 2
    assert store.stored_jobs([slot(0), slot(1), slot(2)]) == {
        slot(0): ("pass", None),
        slot(1): ("pass", None),
    }
    assert store.verify()[1] is None


def test_a_batch_naming_one_slot_twice_stores_it_once(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    assert len(store.append_jobs([(slot(0), evidence(run)), (slot(0), evidence(run))])) == 1


def test_a_job_key_must_name_its_record(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    with pytest.raises(ValueError, match="names another check or target"):
        store.append_jobs([("other.check@aws:1@2026", evidence(run))])
    assert store.count() == 0


def test_concurrent_writers_of_one_slot_store_one_record(store_url: str) -> None:
    """Several writers (threads with their own store, as workers) append the same job key at
    once, each with other keys beside it: the key is stored once and the chain holds."""
    stores = [EvidenceStore.open(store_url) for _ in range(4)]
    run = stores[0].start_run(started_at=T0)
    start = threading.Barrier(len(stores))

    def write(n: int) -> None:
        start.wait()
        stores[n].append_jobs([(slot(0), evidence(run)), (slot(n + 1), evidence(run))])

    threads = [threading.Thread(target=write, args=(n,)) for n in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert stores[0].count() == 1 + len(stores)
        assert set(stores[0].stored_jobs([slot(n) for n in range(6)])) == {
            slot(n) for n in range(len(stores) + 1)
        }
        assert stores[0].verify()[1] is None
    finally:
        for opened in stores:
            opened.close()


def test_the_leader_reads_the_job_keys_appended_after_a_record(store: EvidenceStore) -> None:
    run = store.start_run(started_at=T0)
    store.append(evidence(run))  # the CLI's or the local daemon's: no job key
    start = store.newest_id()
    assert start > 0
    assert store.jobs_after(start) == (start, {})
    store.append_jobs([(slot(0), evidence(run, status="fail", findings=[]))])
    newest, found = store.jobs_after(start)
    assert newest == start + 1 and found == {slot(0): ("fail", None)}
    assert store.jobs_after(newest) == (newest, {})
