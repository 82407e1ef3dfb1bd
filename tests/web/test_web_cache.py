"""The console's read cache gives what the store gives: the latest evidence and a period's
compressed timeline, after records are appended (extended), appended dated before what was read
(buffered evidence: read again), or pruned; and the pages' measures stay the report's."""

from __future__ import annotations

import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from starlette.testclient import TestClient
from structlog.testing import capture_logs

from collector.catalogue import load_catalogue
from collector.continuity import compress, continuity
from collector.mapping import Mapping, Pair, Strength
from collector.measures import measure_fields
from collector.web.app import create_app
from collector.web.cache import ReadCache
from storage import EvidenceStore, RiskException
from tests.store.test_store import evidence
from tests.web.conftest import NOW, TOKENS
from tests.web.test_web_measures import _json_fields, _report

T0 = datetime(2025, 3, 1, tzinfo=UTC)
CHECKS = ("aws.c.hourly", "aws.c.daily", "aws.c.never_stale")
MAX_AGES = {
    "aws.c.hourly": timedelta(hours=2),
    "aws.c.daily": timedelta(hours=48),
    "aws.c.never_stale": None,
}


def _records(run: str, rng: random.Random, since: datetime, count: int) -> list:
    """Runs of one verdict with changes, error spells and long silences, per (check, region)."""
    batch = []
    for check in CHECKS:
        for region in ("eu-west-1", "us-east-1"):
            at, status = since, "pass"
            for _ in range(count):
                if rng.random() < 0.15:
                    status = rng.choice(["pass", "fail", "error", "error"])
                at += timedelta(minutes=rng.choice([30, 45, 60, 90, 150, 600, 3000]))
                bad = status == "fail" and rng.random() < 0.5
                findings = [
                    {
                        "resource": f"arn:aws:s3:::b{i}",
                        "passed": not (bad and i == 0) and not (status == "fail" and i == 1),
                        "message": "m",
                    }
                    for i in range(3 if status != "error" else 0)
                ]
                batch.append(
                    evidence(
                        run,
                        check_id=check,
                        region=region,
                        at=at,
                        status=status,
                        findings=findings,
                        error="AccessDenied" if status == "error" else None,
                    )
                )
    return sorted(batch, key=lambda e: e.collected_at)


def _append(store, records) -> None:
    run = store.start_run(started_at=T0)
    store.append_many(records)
    store.finish_run(run, finished_at=T0, outcome="complete")


def _fresh(store, start, end):
    """The period's compressed timeline read afresh, per (check, target) in order (the order
    continuity relies on; the order across pairs is not promised)."""
    read = store.timeline(start, end, check_ids=CHECKS, max_ages=MAX_AGES)
    return _per_pair(compress(read, MAX_AGES))


def _per_pair(items) -> dict:
    found: dict = {}
    for item in items:
        found.setdefault((item.check_id, item.target_key), []).append(item)
    return found


def test_cached_reads_equal_the_stores_as_records_arrive(store):
    rng = random.Random(5)
    run = store.start_run(started_at=T0)
    store.append_many(_records(run, rng, T0, 80))
    cache = ReadCache(store)
    start, end = T0 + timedelta(days=10), T0 + timedelta(days=40)

    def cached(until):
        return _per_pair(cache.timeline(start, until, CHECKS, MAX_AGES))

    assert cached(end) == _fresh(store, start, end)
    assert cache.latest() == store.latest()
    # a period ending in the past (records after it): kept for that end, read again for another
    past = T0 + timedelta(days=20)
    for until in (past, past, past + timedelta(days=2), end):
        assert cached(until) == _fresh(store, start, until)
    # nothing new: the period grows to a later end
    later = end + timedelta(days=1)
    assert cached(later) == _fresh(store, start, later)
    # new records after what was read: the cached read is extended
    _append(
        store,
        [
            e.__class__(**{**e.__dict__, "run_id": run})
            for e in _records(run, rng, later + timedelta(hours=1), 40)
        ],
    )
    newest = later + timedelta(days=200)
    assert cached(newest) == _fresh(store, start, newest)
    assert cache.latest() == store.latest()
    assert cached(past) == _fresh(store, start, past)
    # a record dated inside what was read (buffered evidence): read again
    late = evidence(
        run,
        check_id=CHECKS[0],
        at=start + timedelta(days=3),
        status="fail",
        findings=[{"resource": "arn:aws:s3:::late", "passed": False, "message": "m"}],
    )
    store.append_many([late])
    assert cached(newest) == _fresh(store, start, newest)
    assert cache.latest() == store.latest()
    # the oldest records pruned (the read of a period starting after them is the same): read again
    assert cached(newest) == _fresh(store, start, newest)
    assert store.prune(start + timedelta(days=5), pruned_at=newest) is not None
    assert cached(newest) == _fresh(store, start, newest)
    assert cache.latest() == store.latest()


def test_pages_show_the_reports_measures_after_evidence_arrives(estate):
    settings, checks = estate
    viewer = {"authorization": f"Bearer {TOKENS['viewer']}"}
    query = "/?from=2026-06-10&to=2026-06-15&format=json"
    with TestClient(create_app(settings, clock=lambda: NOW)) as c:
        c.get(query, headers=viewer)  # the period's read is cached
        with EvidenceStore.open(settings.store_url) as store:
            run = store.start_run(started_at=NOW - timedelta(minutes=30))
            store.append_many([evidence(run, check_id=checks[0], at=NOW - timedelta(minutes=30))])
            store.finish_run(run, finished_at=NOW, outcome="complete")
        shown = c.get(query, headers=viewer).json()
        state = c.get("/controls?format=json", headers=viewer).json()
    review, _, current, _, _ = _report(settings)
    expected = {c.control.id: _json_fields(measure_fields(c.current)) for c in review.controls}
    assert expected["A.8.3"]["went_failing"] == 1 and expected["A.8.3"]["state_at_end"] == "passing"
    assert shown["measures"]["controls"] == expected
    assert {r["control"]: r["state"] for r in state} == {k: str(v) for k, v in current.items()}


SUFFICIENT, SUPPORTING = Strength.SUFFICIENT, Strength.SUPPORTING
MAPPED = Mapping(
    {
        "aws.c.hourly": {"A.8.3": Pair(SUFFICIENT, "a"), "A.8.5": Pair(SUPPORTING, "b")},
        "aws.c.daily": {"A.8.3": Pair(SUPPORTING, "c"), "A.8.12": Pair(SUFFICIENT, "d")},
        "aws.c.never_stale": {"A.8.12": Pair(SUPPORTING, "e")},
    }
)
INTERVALS = {"aws.c.hourly": timedelta(hours=1), "aws.c.daily": timedelta(hours=24)}  # MAX_AGES


def _accepted(days: int, until: int, revoked: int | None = None) -> RiskException:
    return RiskException(
        id=days,
        check_id="aws.c.hourly",
        resource_pattern="arn:aws:s3:::b0",
        target_pattern="*eu-west-1*",
        reason="r",
        approved_by="ciso",
        created_at=T0 + timedelta(days=days),
        expires_at=T0 + timedelta(days=until),
        created_by="u",
        revoked_at=None if revoked is None else T0 + timedelta(days=revoked),
    )


def test_any_periods_continuity_from_the_whole_read_and_its_memo(store):
    """Continuity over any period, worked out from the cached read of all time with its memo of
    state changes, is the continuity of the store's own read of that period, before and after
    the read is extended (the memo carried over, its entries replaced rather than piled up)."""
    catalogue = load_catalogue()
    rng = random.Random(11)
    run = store.start_run(started_at=T0)
    store.append_many(_records(run, rng, T0, 80))
    exceptions = [_accepted(5, 30), _accepted(12, 90, revoked=20)]
    clock = [T0 + timedelta(days=60)]
    cache = ReadCache(store, lambda: clock[0])

    def agree(periods) -> dict:
        memo: dict = {}
        for start, end in periods:
            history = cache.timeline(start, end, CHECKS, MAX_AGES)
            whole, memo = cache.whole(history)
            assert len(whole) > len(history) or start <= T0
            fresh = _fresh(store, start, end)
            expected = continuity(
                catalogue,
                None,
                MAPPED,
                [i for items in fresh.values() for i in items],
                INTERVALS,
                start,
                end,
                exceptions=exceptions,
            )
            found = continuity(
                catalogue,
                None,
                MAPPED,
                whole,
                INTERVALS,
                start,
                end,
                exceptions=exceptions,
                memo=memo,
            )
            assert found == expected, (start, end)
        return memo

    days = [T0 + timedelta(days=d, hours=rng.randrange(24)) for d in (-3, 1, 4, 9, 17, 25, 33)]
    periods = [(a, b) for a in days for b in days if a < b]
    memo = agree(periods)
    size = len(memo)
    for _ in range(2):  # new records after the read: extended, the memo carried over
        clock[0] += timedelta(days=20)
        since = clock[0] - timedelta(days=19)
        _append(store, _records(run, rng, since, 10))
        later = [(a, clock[0]) for a, _ in periods[::3]] + periods[:4]
        assert agree(later) is memo and len(memo) == size


def test_period_timelines_kept_per_read_are_bounded(store):
    """A period ending now moves with the clock, so each request could add a cut: a whole read
    keeps only the newest few; a list the cache did not give has no whole read."""
    _append(store, _records(store.start_run(started_at=T0), random.Random(2), T0, 20))
    cache = ReadCache(store)
    start, end = T0 + timedelta(days=1), T0 + timedelta(days=5)
    ends = [end - timedelta(minutes=i) for i in range(12)]
    cuts = [cache.timeline(start, until, CHECKS, MAX_AGES) for until in ends]
    whole = cache.whole(cuts[-1])
    assert whole is not None and all(cache.whole(cut) == whole for cut in cuts[-8:])
    assert cache.whole(cuts[0]) is None  # dropped
    assert cache.whole(list(cuts[-1])) is None


def test_a_cut_taken_while_records_arrive_is_not_kept(store):
    """A record appended between the whole read and the point-in-time reads a period is cut
    with (buffered, dated inside the period): that cut is dropped and the period read again."""
    _append(store, _records(store.start_run(started_at=T0), random.Random(3), T0, 20))
    cache = ReadCache(store)
    start, end = T0 + timedelta(days=1), T0 + timedelta(days=5)
    whole = cache._whole(end, frozenset(CHECKS), MAX_AGES)
    late = evidence(store.start_run(started_at=T0), check_id=CHECKS[1], at=start, status="fail")
    store.append_many([late])
    assert cache._cut(whole, start, end, frozenset(CHECKS)) is None
    assert _per_pair(cache.timeline(start, end, CHECKS, MAX_AGES)) == _fresh(store, start, end)


def test_the_console_reads_at_start_and_says_so(estate):
    """The overview's reads are made when the console starts, in the background; when they
    fail it is a warning naming the cause, and the console still serves."""
    settings, _ = estate
    viewer = {"authorization": f"Bearer {TOKENS['viewer']}"}
    with capture_logs() as logs, TestClient(create_app(settings, clock=lambda: NOW)) as client:
        _warmed()
        assert client.get("/", headers=viewer).is_success
    assert [e["event"] for e in logs if e["log_level"] == "info"] == ["console read at start"]
    with EvidenceStore.open(settings.store_url) as store, store.engine.begin() as conn:
        conn.execute(text("DROP TABLE evidence_run_state"))
    with capture_logs() as logs, TestClient(create_app(settings, clock=lambda: NOW)) as client:
        _warmed()
        assert client.get("/runs", headers=viewer).is_success
    (failed,) = [e for e in logs if e["log_level"] == "warning"]
    assert failed["event"] == "console read at start failed"
    assert "evidence_run_state" in failed["error"]


def _warmed() -> None:
    while any(t.name == "annexa-web-warm" for t in threading.enumerate()):
        time.sleep(0.01)


def test_continuity_from_two_reads_sharing_one_memo_at_once(store):
    """Requests served together can work from the read before an extension and the read after
    it, which share one memo: each still gets its own read's continuity, while the other
    replaces the memo's entries under it."""
    catalogue = load_catalogue()
    run = store.start_run(started_at=T0)
    rng = random.Random(21)
    store.append_many(_records(run, rng, T0, 60))
    clock = [T0 + timedelta(days=40)]
    cache = ReadCache(store, lambda: clock[0])
    start, end = T0 + timedelta(days=2), T0 + timedelta(days=30)
    old, memo = cache.whole(cache.timeline(start, end, CHECKS, MAX_AGES))
    clock[0] += timedelta(days=20)
    _append(store, _records(run, rng, T0 + timedelta(days=41), 20))
    new, shared = cache.whole(cache.timeline(start, clock[0], CHECKS, MAX_AGES))
    assert shared is memo and new is not old

    def of(history, until, memo=None):
        return continuity(catalogue, None, MAPPED, history, INTERVALS, start, until, memo=memo)

    expected = {id(old): of(old, end), id(new): of(new, clock[0])}
    failures: list[BaseException] = []

    def serve(history, until) -> None:
        try:
            for _ in range(40):
                assert of(history, until, memo) == expected[id(history)]
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=serve, args=a) for a in ((old, end), (new, clock[0]))]
    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads take turns all the time, as under load
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(switching)
    assert not failures, failures[0]


def test_a_read_of_the_past_is_extended_to_a_later_period_not_read_again(store):
    """A console without a clock reads up to the first period's end; a later period (records
    lie after the first, nothing new appended) extends that read with the records from its end
    on: the same summaries as the store's read, the continuity memo carried over."""
    _append(store, _records(store.start_run(started_at=T0), random.Random(4), T0, 60))
    cache = ReadCache(store)
    start = T0 + timedelta(days=2)
    first = cache.timeline(start, T0 + timedelta(days=6), CHECKS, MAX_AGES)
    _, memo = cache.whole(first)
    memo["mark"] = True
    later = T0 + timedelta(days=30)
    assert store.any_between(T0 + timedelta(days=6), later, check_ids=CHECKS)
    assert _per_pair(cache.timeline(start, later, CHECKS, MAX_AGES)) == _fresh(store, start, later)
    _, carried = cache.whole(cache.timeline(start, later, CHECKS, MAX_AGES))
    assert carried is memo


def test_a_subset_of_checks_is_cut_from_the_read_of_them_all(store):
    """A control's page asks for its own checks: they are cut from the overview's read of every
    check (the same summaries as the store's read of them alone), not read again."""
    _append(store, _records(store.start_run(started_at=T0), random.Random(6), T0, 40))
    cache = ReadCache(store)
    start, end = T0 + timedelta(days=2), T0 + timedelta(days=12)
    every = cache.timeline(start, end, CHECKS, MAX_AGES)
    some = cache.timeline(start, end, CHECKS[1:], MAX_AGES)
    read = store.timeline(start, end, check_ids=CHECKS[1:], max_ages=MAX_AGES)
    assert _per_pair(some) == _per_pair(compress(read, MAX_AGES))
    assert {s.check_id for s in some} == set(CHECKS[1:])
    assert cache.whole(some)[0] is cache.whole(every)[0]
