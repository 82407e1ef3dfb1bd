"""The runner: isolation, memoisation, ERROR causes, timeouts, zero resources, regions."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import pytest
import structlog
from structlog.testing import capture_logs

from checks.api import Finding, Snapshot, check
from collector.accounts import Account
from collector.collect import Target, collects
from collector.registry import build_registry
from collector.runner import Runner, plan, run_outcome, schedule
from collector.snapshots import SnapshotCache
from storage import EvidenceStore

CALLS: Counter[str] = Counter()
RELEASE = threading.Event()
SLOW_DONE = threading.Event()  # collect_slow returned
SLOW_WORKERS: list[threading.Thread] = []  # threads that ran collect_slow
FETCHED_IN: set[str] = set()  # names of the threads that fetched widgets or gadgets
PARTS_READ: list[frozenset[str]] = []  # the optional parts of Parcels each fetch was told to read


class Widgets(Snapshot):
    provider: ClassVar[str] = "lab"
    resource_noun: ClassVar[str] = "widgets"
    names: list[str]
    secret_note: str = ""
    listed_at: datetime = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class Gadgets(Snapshot):
    provider: ClassVar[str] = "lab"
    resource_noun: ClassVar[str] = "gadgets"
    names: list[str]


class Broken(Snapshot):
    provider: ClassVar[str] = "lab"
    names: list[str]


class Blobs(Snapshot):
    provider: ClassVar[str] = "lab"
    data: bytes  # not UTF-8: its JSON form cannot be made


class Slow(Snapshot):
    provider: ClassVar[str] = "lab"
    names: list[str]


class Parcels(Snapshot):
    provider: ClassVar[str] = "lab"
    names: list[str]
    weights: list[int] | None = None


@dataclass
class LabScope:
    target: Target
    cache: SnapshotCache
    widgets: tuple[str, ...]

    def get(self, kind):
        return self.cache.get(kind, self.target)


@collects(Widgets, permissions=["lab:ListWidgets"])
def collect_widgets(scope: LabScope) -> Widgets:
    CALLS["widgets"] += 1
    FETCHED_IN.add(threading.current_thread().name)
    time.sleep(0.05)  # let concurrent checks pile up on the one fetch
    return Widgets(names=list(scope.widgets), secret_note="password=hunter2")


@collects(Gadgets, permissions=["lab:ListGadgets"], scope="region")
def collect_gadgets(scope: LabScope) -> Gadgets:
    CALLS[f"gadgets@{scope.target.region}"] += 1
    FETCHED_IN.add(threading.current_thread().name)
    return Gadgets(names=[] if scope.target.region == "r2" else ["g1"])


@collects(Broken, permissions=["lab:Explode"])
def collect_broken(scope: LabScope) -> Broken:
    CALLS["broken"] += 1
    raise PermissionError("AccessDenied: lab:Explode not allowed")


@collects(Blobs, permissions=["lab:ReadBlobs"])
def collect_blobs(scope: LabScope) -> Blobs:
    return Blobs(data=b"\xff\xfe")


@collects(Slow, permissions=["lab:Wait"])
def collect_slow(scope: LabScope) -> Slow:
    SLOW_WORKERS.append(threading.current_thread())
    RELEASE.wait(60)
    SLOW_DONE.set()
    return Slow(names=["s"])


@collects(
    Parcels,
    permissions=["lab:ListParcels"],
    parts={"lab.parcels.any": [], "lab.parcels.weighed": ["weights"]},
    fan_out=True,
)
def collect_parcels(scope: LabScope) -> Parcels:
    read = scope.cache.parts(Parcels)
    PARTS_READ.append(read)
    return Parcels(names=["p"], weights=[3] if "weights" in read else None)


@check(id="lab.widgets.named", title="Widgets have short names", severity="low", interval="1h")
def widgets_named(widgets: Widgets):
    for name in widgets.names:
        yield Finding(resource=name, passed=len(name) < 6, message=f"name {name}")


@check(id="lab.widgets.present", title="At least one widget", severity="low", interval="1h")
def widgets_present(widgets: Widgets):
    yield Finding(resource="lab", passed=bool(widgets.names), message=f"{len(widgets.names)}")


@check(id="lab.gadgets.ok", title="Gadgets per region", severity="low", interval="1h")
def gadgets_ok(gadgets: Gadgets):
    for name in gadgets.names:
        yield Finding(resource=name, passed=True, message="ok")


@check(id="lab.broken.any", title="Needs a denied API", severity="high", interval="1h")
def broken_any(broken: Broken):
    yield Finding(resource="x", passed=True, message="never reached")


@check(id="lab.widgets.crash", title="A check with a bug", severity="low", interval="1h")
def widgets_crash(widgets: Widgets):
    raise ZeroDivisionError("division by zero in check")


@check(id="lab.blobs.any", title="Blobs judged", severity="low", interval="1h")
def blobs_any(blobs: Blobs):
    yield Finding(resource="b", passed=True, message="judged, not observable")


@check(id="lab.gadgets.widgets", title="Gadgets beside widgets", severity="low", interval="1h")
def gadgets_widgets(gadgets: Gadgets, widgets: Widgets):
    for name in gadgets.names:
        yield Finding(resource=name, passed=name not in widgets.names, message="ok")


@check(id="lab.parcels.any", title="Parcels listed", severity="low", interval="1h")
def parcels_any(parcels: Parcels):
    yield Finding(resource="lab", passed=bool(parcels.names), message="ok")


@check(id="lab.parcels.weighed", title="Parcels weighed", severity="low", interval="1h")
def parcels_weighed(parcels: Parcels):
    yield Finding(resource="lab", passed=bool(parcels.weights), message="ok")


@check(id="lab.slow.any", title="Hangs", severity="low", interval="1h")
def slow_any(slow: Slow):
    yield Finding(resource="s", passed=True, message="late")


REGISTRY = build_registry([("test", sys.modules[__name__])])


def lab_account(widgets=("alpha", "verylongname")) -> Account:
    def make_scope(target: Target, cache: SnapshotCache) -> LabScope:
        return LabScope(target, cache, tuple(widgets))

    return Account("lab", "lab-1", regions=("r1", "r2"), make_scope=make_scope)


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    RELEASE.clear()
    SLOW_DONE.clear()
    SLOW_WORKERS.clear()
    FETCHED_IN.clear()
    PARTS_READ.clear()
    yield
    RELEASE.set()


@pytest.fixture
def logs():
    """The runner's log lines, debug included (what ``annexa -v`` prints)."""
    wrapper = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs() as entries:
            yield entries
    finally:
        structlog.configure(wrapper_class=wrapper)


def runner_lines(logs):
    return [e for e in logs if e["event"] in ("run started", "evidence stored", "run finished")]


def _run(store: EvidenceStore, ids, account=None, **kwargs):
    runner = Runner(REGISTRY, store, concurrency=4, **kwargs)
    return runner.run(REGISTRY.select(ids=ids), [account or lab_account()])


def by_check(result):
    return {(r.check_id, r.region): r for r in result.records}


def test_each_check_isolated_and_errors_carry_their_cause(store):
    result = _run(
        store, ["lab.widgets.named", "lab.widgets.present", "lab.broken.any", "lab.widgets.crash"]
    )
    records = by_check(result)
    assert records["lab.widgets.named", None].status == "fail"
    assert records["lab.widgets.named", None].summary == "1 of 2 widgets failing"
    assert records["lab.widgets.present", None].status == "pass"
    broken = records["lab.broken.any", None]
    assert broken.status == "error" and "lab:Explode" in broken.error
    assert (broken.findings, broken.observations) == ([], {})  # nothing half-judged kept
    assert records["lab.widgets.crash", None].status == "error"
    assert "ZeroDivisionError" in records["lab.widgets.crash", None].error
    assert result.outcome == "partial"
    assert store.get_run(result.run_id).outcome == "partial"


def test_observations_that_cannot_be_recorded_are_that_checks_error(store):
    """A snapshot whose observations cannot be written as JSON: its check is ERROR naming the
    cause (a verdict without its proof is not evidence), the others are stored, the run ends."""
    result = _run(store, ["lab.blobs.any", "lab.widgets.present"])
    records = by_check(result)
    blobs = records["lab.blobs.any", None]
    assert blobs.status == "error" and (blobs.findings, blobs.observations) == ([], {})
    assert blobs.error.startswith("observations of Blobs could not be recorded: ")
    assert "utf-8" in blobs.error
    assert records["lab.widgets.present", None].status == "pass"
    assert result.outcome == "partial"


def test_one_fetch_per_target_shared_by_every_check(store):
    _run(store, ["lab.widgets.named", "lab.widgets.present", "lab.widgets.crash"])
    assert CALLS["widgets"] == 1


def test_memoised_error_is_fetched_once():
    cache = SnapshotCache(REGISTRY.collectors, lab_account().make_scope)
    target = Target("lab", "lab-1")
    for _ in range(3):
        with pytest.raises(PermissionError):
            cache.get(Broken, target)
    assert CALLS["broken"] == 1


def test_regional_checks_run_per_region_and_zero_resources_is_evidence(store):
    result = _run(store, ["lab.gadgets.ok", "lab.widgets.present"])
    records = by_check(result)
    assert set(records) == {
        ("lab.gadgets.ok", "r1"),
        ("lab.gadgets.ok", "r2"),
        ("lab.widgets.present", None),
    }
    empty = records["lab.gadgets.ok", "r2"]
    assert empty.status == "not_applicable" and empty.summary == "0 gadgets"
    assert empty.observations == {"Gadgets": {"names": []}}
    assert CALLS["gadgets@r1"] == CALLS["gadgets@r2"] == 1
    assert result.outcome == "complete"


def test_observations_stored_and_redacted(store):
    result = _run(store, ["lab.widgets.present"])
    (record,) = result.records
    assert record.observations["Widgets"]["names"] == ["alpha", "verylongname"]
    assert record.observations["Widgets"]["listed_at"] == "2026-01-02T03:04:05Z"  # JSON form
    assert "hunter2" not in str(record.observations)


def test_checks_on_one_snapshot_share_its_observations(store):
    """A run holds one observed copy of a snapshot however many checks judge it (its
    memory then grows with the estate, not with the estate times the checks)."""
    result = _run(store, ["lab.widgets.named", "lab.widgets.present"])
    named, present = (
        by_check(result)[c, None] for c in ("lab.widgets.named", "lab.widgets.present")
    )
    assert named.observations["Widgets"] is present.observations["Widgets"]
    assert "hunter2" not in str(named.observations)


def test_timeout_becomes_error_and_run_finishes(store):
    result = _run(store, ["lab.slow.any", "lab.widgets.present"], timeout=0.5)
    records = by_check(result)
    assert records["lab.slow.any", None].status == "error"
    assert "timed out after 0.5 s" in records["lab.slow.any", None].error
    assert records["lab.widgets.present", None].status == "pass"
    assert len(SLOW_WORKERS) == 1 and not SLOW_DONE.is_set()  # the run ended while it hangs
    RELEASE.set()
    (late,) = SLOW_WORKERS
    late.join(10)  # its worker ends once the late result has been handed to the runner
    assert not late.is_alive()
    assert len(store.history(check_ids=["lab.slow.any"])) == 1


def test_unresolvable_account_is_error_for_every_check(store):
    account = Account("lab", "prod-label", error="cannot access lab account prod: expired token")
    result = _run(store, ["lab.widgets.present", "lab.gadgets.ok"], account=account)
    assert {r.status for r in result.records} == {"error"}
    assert {r.target_key for r in result.records} == {"lab:prod-label"}
    assert all("expired token" in r.error for r in result.records)
    # an account whose scope could be built but whose resolution failed is never collected
    failed = Account("lab", "lab-2", make_scope=lab_account().make_scope, error="expired token")
    (record,) = _run(store, ["lab.widgets.present"], account=failed).records
    assert (record.status, record.error, CALLS["widgets"]) == ("error", "expired token", 0)


def test_findings_stored_as_judged_with_failures_counted(store):
    result = _run(store, ["lab.widgets.named"], account=lab_account(("a", "b", "verylongname")))
    (record,) = result.records
    assert record.summary == "1 of 3 widgets failing"
    assert record.findings == [
        {"resource": "a", "passed": True, "message": "name a"},
        {"resource": "b", "passed": True, "message": "name b"},
        {"resource": "verylongname", "passed": False, "message": "name verylongname"},
    ]


def test_interrupt_marks_run_interrupted(store):
    def stop(record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(store, ["lab.widgets.present", "lab.widgets.named"], on_record=stop)
    (run,) = store.runs(1)
    assert run.outcome == "interrupted" and run.records >= 1
    assert run.finished_at is not None


def test_run_record_says_what_was_planned_by_whom_and_when(store):
    planned: list[int] = []
    account = Account(
        "lab", "lab-1", regions=("r1", "r2"), make_scope=lab_account().make_scope, identity="bot"
    )
    runner = Runner(REGISTRY, store, on_plan=planned.append)
    result = runner.run(REGISTRY.select(ids=["lab.gadgets.ok"]), [account], trigger="ci")
    run = store.get_run(result.run_id)
    assert planned == [2] and (run.planned, run.trigger) == (2, "ci")
    assert run.finished_at == result.finished_at and run.outcome == result.outcome == "complete"
    assert run.collected_by == {"lab:lab-1": "bot"} and run.annexa_version


def test_run_logs_its_start_each_record_and_its_end(store, logs):
    runner = Runner(REGISTRY, store, concurrency=4)
    ids = ["lab.widgets.named", "lab.gadgets.ok", "lab.broken.any"]
    result = runner.run(REGISTRY.select(ids=ids), [lab_account()], trigger="daemon")
    run_id, logs = result.run_id, runner_lines(logs)
    assert logs[0] == {
        "event": "run started",
        "log_level": "info",
        "run_id": run_id,
        "jobs": 4,
        "trigger": "daemon",
    }
    stored = sorted((e["check"], e["target"], e["status"]) for e in logs[1:-1])
    assert stored == [
        ("lab.broken.any", "lab:lab-1", "error"),
        ("lab.gadgets.ok", "lab:lab-1:r1", "pass"),
        ("lab.gadgets.ok", "lab:lab-1:r2", "not_applicable"),
        ("lab.widgets.named", "lab:lab-1", "fail"),
    ]
    assert {(e["event"], e["log_level"], len(e)) for e in logs[1:-1]} == {
        ("evidence stored", "debug", 5)
    }
    assert logs[-1] == {
        "event": "run finished",
        "log_level": "info",
        "run_id": run_id,
        "outcome": "partial",
        "records": 4,
        "error": 1,
        "pass": 1,
        "fail": 1,
        "not_applicable": 1,
    }


def test_an_interrupted_run_logs_its_end(store, logs):
    def stop(record):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _run(store, ["lab.widgets.present"], on_record=stop)
    logs = runner_lines(logs)
    assert logs[-1]["event"] == "run finished"
    assert (logs[-1]["outcome"], logs[-1]["records"], logs[-1]["pass"]) == ("interrupted", 1, 1)


def test_concurrency_one_fetches_in_one_named_check_thread(store):
    runner = Runner(REGISTRY, store, concurrency=1)
    ids = ["lab.widgets.present", "lab.gadgets.ok"]
    result = runner.run(REGISTRY.select(ids=ids), [lab_account()])
    assert len(result.records) == 3
    assert sorted(FETCHED_IN) == ["annexa-check_0"]


def test_a_run_whose_every_record_is_an_error_failed(store):
    result = _run(store, ["lab.broken.any", "lab.widgets.crash"])
    assert result.outcome == store.get_run(result.run_id).outcome == "failed"
    assert run_outcome([]) == "complete"


def test_run_and_records_carry_the_injected_clock_and_each_record_is_reported(store):
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    seen = []
    ids = ["lab.widgets.present", "lab.broken.any", "lab.gadgets.ok"]
    result = _run(store, ids, clock=lambda: at, on_record=seen.append)
    assert (result.started_at, result.finished_at) == (at, at)
    assert [r.collected_at for r in result.records] == [at] * 4
    run = store.get_run(result.run_id)
    assert (run.started_at, run.finished_at, run.trigger) == (at, at, "cli")
    assert len(seen) == 4 and all(r in result.records for r in seen)


def test_a_run_reads_only_the_parts_its_checks_need(store):
    _run(store, ["lab.parcels.any"])
    records = by_check(_run(store, ["lab.parcels.any", "lab.parcels.weighed"]))
    assert list(PARTS_READ) == [frozenset(), frozenset({"weights"})]
    assert records["lab.parcels.weighed", None].status == "pass"


def order(ids):
    jobs = plan([REGISTRY.checks[i] for i in ids], [lab_account()], REGISTRY)
    return [(job.check.id, job.target.region) for job in schedule(jobs, REGISTRY)]


def test_schedule_starts_every_fetch_fan_out_first_before_the_jobs_that_reuse_one():
    assert order(["lab.widgets.named", "lab.widgets.present", "lab.gadgets.ok"]) == [
        ("lab.widgets.named", None),
        ("lab.gadgets.ok", "r1"),
        ("lab.gadgets.ok", "r2"),
        ("lab.widgets.present", None),  # reuses the widgets fetched for lab.widgets.named
    ]
    ids = ["lab.widgets.named", "lab.gadgets.ok", "lab.widgets.present", "lab.broken.any"]
    assert order([*ids, "lab.parcels.any"]) == [
        ("lab.parcels.any", None),  # its collector fans out per parcel
        ("lab.widgets.named", None),
        ("lab.gadgets.ok", "r1"),
        ("lab.gadgets.ok", "r2"),
        ("lab.broken.any", None),
        ("lab.widgets.present", None),
    ]
    # a regional check reads the account's widgets once for every region
    assert order(["lab.gadgets.widgets", "lab.widgets.present", "lab.broken.any"]) == [
        ("lab.gadgets.widgets", "r1"),
        ("lab.gadgets.widgets", "r2"),
        ("lab.broken.any", None),
        ("lab.widgets.present", None),
    ]


def test_an_interrupted_run_starts_none_of_its_queued_jobs(store):
    def stop(record):
        raise KeyboardInterrupt

    ids = ["lab.widgets.present", "lab.slow.any", "lab.widgets.named"]
    runner = Runner(REGISTRY, store, concurrency=1, on_record=stop)
    with pytest.raises(KeyboardInterrupt):  # lab.widgets.present stored, lab.slow.any hanging
        runner.run([REGISTRY.checks[i] for i in ids], [lab_account()])
    RELEASE.set()
    (late,) = SLOW_WORKERS
    late.join(10)
    assert not late.is_alive()
    stored = {r.check_id for r in store.history(check_ids=ids)}
    assert stored == {"lab.widgets.present", "lab.slow.any"}  # lab.widgets.named never ran
