"""The runner: isolation, memoisation, ERROR causes, timeouts, zero resources, regions."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from checks.api import Finding, Snapshot, check
from collector.accounts import Account
from collector.collect import Target, collects
from collector.registry import build_registry
from collector.runner import Runner
from collector.snapshots import SnapshotCache
from storage import EvidenceStore

CALLS: Counter[str] = Counter()
RELEASE = threading.Event()
SLOW_WORKERS: list[threading.Thread] = []  # threads that ran collect_slow


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


class Slow(Snapshot):
    provider: ClassVar[str] = "lab"
    names: list[str]


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
    time.sleep(0.05)  # let concurrent checks pile up on the one fetch
    return Widgets(names=list(scope.widgets), secret_note="password=hunter2")


@collects(Gadgets, permissions=["lab:ListGadgets"], scope="region")
def collect_gadgets(scope: LabScope) -> Gadgets:
    CALLS[f"gadgets@{scope.target.region}"] += 1
    return Gadgets(names=[] if scope.target.region == "r2" else ["g1"])


@collects(Broken, permissions=["lab:Explode"])
def collect_broken(scope: LabScope) -> Broken:
    CALLS["broken"] += 1
    raise PermissionError("AccessDenied: lab:Explode not allowed")


@collects(Slow, permissions=["lab:Wait"])
def collect_slow(scope: LabScope) -> Slow:
    SLOW_WORKERS.append(threading.current_thread())
    RELEASE.wait(10)
    return Slow(names=["s"])


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
    SLOW_WORKERS.clear()
    yield
    RELEASE.set()


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


def test_timeout_becomes_error_and_run_finishes(store):
    result = _run(store, ["lab.slow.any", "lab.widgets.present"], timeout=0.5)
    records = by_check(result)
    assert records["lab.slow.any", None].status == "error"
    assert "timed out after 0.5 s" in records["lab.slow.any", None].error
    assert records["lab.widgets.present", None].status == "pass"
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
