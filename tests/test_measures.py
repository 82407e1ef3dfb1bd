"""Clause 9.1 measures on hand-built timelines and histories with a pinned period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collector.measures import (
    age_band,
    expiring_manual,
    finding_history,
    measure_fields,
    measure_timeline,
    split_period,
)
from collector.status import ControlState as S
from storage import EvidenceSummary, ManualEvidence

START = datetime(2026, 3, 1, tzinfo=UTC)
H, D = timedelta(hours=1), timedelta(days=1)
END = START + 10 * D


def at(hours: float) -> datetime:
    return START + hours * H


def test_passing_share_restore_and_health_from_one_timeline() -> None:
    timeline = [
        (START, S.PASSING),  # 0-24h passing
        (at(24), S.FAILING),  # 24-30h failing
        (at(30), S.ERROR),  # 30-36h error: still counts toward restore
        (at(36), S.PASSING),  # restored after 12 h
        (at(48), S.STALE),  # 48-60h stale
        (at(60), S.FAILING),  # second episode, open at the end
    ]
    m = measure_timeline(timeline, START, at(72))
    assert m.passing_share == pytest.approx(36 / 72)
    assert m.went_failing == 2
    assert m.failing_at_start is False
    assert m.restore_times == (12 * H,)
    assert m.mean_restore == m.worst_restore == 12 * H
    assert m.open_failing_since == at(60)
    assert m.failing == 6 * H + 12 * H
    assert m.health == {"error": 6 * H, "stale": 12 * H}
    assert m.unhealthy == 18 * H
    assert m.state_at_end is S.FAILING


def test_an_episode_open_at_the_start_is_not_timed_and_not_counted_as_went_failing() -> None:
    timeline = [(START, S.FAILING), (at(5), S.PASSING), (at(10), S.FAILING), (at(13), S.ATTESTED)]
    m = measure_timeline(timeline, START, at(20))
    assert m.failing_at_start is True
    assert m.went_failing == 1
    assert m.restore_times == (3 * H,)  # only the episode that began inside the period
    assert m.open_failing_since is None
    assert m.passing_share == pytest.approx((5 + 7) / 20)


def test_mean_and_worst_restore_differ_over_several_episodes() -> None:
    timeline = [
        (START, S.PASSING),
        (at(1), S.FAILING),
        (at(3), S.PASSING),  # 2 h
        (at(10), S.FAILING),
        (at(16), S.PASSING),  # 6 h
    ]
    m = measure_timeline(timeline, START, at(20))
    assert m.restore_times == (2 * H, 6 * H)
    assert m.mean_restore == 4 * H
    assert m.worst_restore == 6 * H


def test_no_evidence_and_never_run_count_as_collection_health_not_failure() -> None:
    m = measure_timeline([(START, None), (at(4), S.NO_EVIDENCE), (at(6), S.PASSING)], START, at(8))
    assert m.health == {"no_evidence": 6 * H}
    assert m.failing == timedelta(0)
    assert m.went_failing == 0
    assert m.mean_restore is None and m.worst_restore is None


def test_changes_after_the_end_are_ignored() -> None:
    m = measure_timeline([(START, S.PASSING), (at(50), S.FAILING)], START, at(10))
    assert m.passing_share == 1.0
    assert m.went_failing == 0


def test_a_timeline_must_start_at_the_period_start() -> None:
    with pytest.raises(ValueError, match="start"):
        measure_timeline([(at(1), S.PASSING)], START, at(10))
    with pytest.raises(ValueError, match="empty period"):
        measure_timeline([(START, S.PASSING)], START, START)


def test_month_split_crosses_month_and_year_ends_at_utc_midnight() -> None:
    start = datetime(2026, 11, 15, 12, tzinfo=UTC)
    end = datetime(2027, 2, 3, tzinfo=UTC)
    parts = split_period(start, end)
    assert [(a.isoformat(), b.isoformat()) for a, b in parts] == [
        ("2026-11-15T12:00:00+00:00", "2026-12-01T00:00:00+00:00"),
        ("2026-12-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"),
        ("2027-01-01T00:00:00+00:00", "2027-02-01T00:00:00+00:00"),
        ("2027-02-01T00:00:00+00:00", "2027-02-03T00:00:00+00:00"),
    ]


def test_week_split_cuts_on_mondays() -> None:
    start = datetime(2026, 12, 2, tzinfo=UTC)  # a Wednesday
    parts = split_period(start, start + 14 * D, "week")
    assert [p[0].weekday() for p in parts[1:]] == [0, 0]
    assert parts[1][0] == datetime(2026, 12, 7, tzinfo=UTC)
    assert parts[-1][1] == start + 14 * D
    with pytest.raises(ValueError, match="unknown trend unit"):
        split_period(start, start + D, "fortnight")


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (0 * D, "0-7d"),
        (7 * D, "0-7d"),
        (8 * D, "8-30d"),
        (30 * D, "8-30d"),
        (31 * D, "31-90d"),
        (90 * D, "31-90d"),
        (91 * D, ">90d"),
    ],
)
def test_age_bands_are_closed_on_the_right(age: timedelta, band: str) -> None:
    assert age_band(age) == band


def summary(hours: float, status: str, *failing: str, check: str = "aws.s3.x") -> EvidenceSummary:
    return EvidenceSummary(
        check_id=check,
        target_key="aws:111111111111",
        provider="aws",
        account="111111111111",
        region=None,
        status=status,  # type: ignore[arg-type]
        collected_at=at(hours),
        last_conclusive_at=at(hours),
        passed=0,
        failed=len(failing),
        summary=status,
        evidence_id=int(hours * 10),
        error=None,
        failing_resources=failing,
    )


def test_open_findings_are_aged_from_their_first_failing_record_and_errors_fix_nothing() -> None:
    history = [
        summary(0, "fail", "bucket-a"),  # the record in force at the start
        summary(10, "fail", "bucket-a", "bucket-b"),
        summary(20, "error"),  # nobody looked: nothing fixed
        summary(30, "fail", "bucket-b"),  # bucket-a fixed
    ]
    open_findings, recurring = finding_history(reversed(history), START, at(40))
    assert [(f.resource, f.failing_since, f.since_before) for f in open_findings] == [
        ("bucket-b", at(10), False)
    ]
    assert recurring == []


def test_a_finding_that_fails_again_after_a_fix_is_recurring() -> None:
    history = [
        summary(0, "fail", "bucket-a"),
        summary(5, "pass"),
        summary(8, "fail", "bucket-a"),
        summary(9, "pass"),
        summary(12, "fail", "bucket-a"),
        summary(100, "fail", "bucket-a", "bucket-c"),  # after the end: ignored
    ]
    open_findings, recurring = finding_history(history, START, at(50))
    assert [(r.resource, r.refailures, r.last_failed_at) for r in recurring] == [
        ("bucket-a", 2, at(12))
    ]
    assert [(f.resource, f.failing_since) for f in open_findings] == [("bucket-a", at(12))]


def test_a_finding_already_failing_at_the_start_is_marked_as_a_lower_bound() -> None:
    open_findings, _ = finding_history([summary(0, "fail", "key-1")], START, at(5))
    assert open_findings[0].since_before is True


def manual(control: str, uploaded: float, valid_days: float, id_: int) -> ManualEvidence:
    return ManualEvidence(
        id=id_,
        control_id=control,
        sha256="0" * 64,
        file_name="policy.pdf",
        size=1,
        media_type="application/pdf",
        note="",
        uploaded_at=at(uploaded),
        valid_from=at(uploaded),
        valid_until=at(uploaded) + valid_days * D,
        uploaded_by="ciso",
    )


def test_expiring_manual_evidence_uses_the_governing_item_only() -> None:
    items = [
        manual("A.5.1", 0, 5, 1),  # superseded by #2, which runs longer
        manual("A.5.1", 1, 300, 2),
        manual("A.5.2", 0, 20, 3),  # expires in (now, now + 30d]
        manual("A.5.3", 0, 1, 4),  # already expired at now
    ]
    found = expiring_manual(items, at(48), 30 * D)
    assert [i.id for i in found] == [3]


def test_accepted_time_is_counted_apart_and_does_not_end_the_failing_episode() -> None:
    """An accepted failure is still a failure: the episode runs on until passing again."""
    timeline = [
        (START, S.PASSING),
        (at(2), S.FAILING),
        (at(3), S.ACCEPTED),
        (at(8), S.FAILING),
        (at(9), S.PASSING),
    ]
    m = measure_timeline(timeline, START, at(10))
    assert m.accepted == 5 * H
    assert m.failing == 2 * H
    assert m.passing_share == pytest.approx(3 / 10)
    assert m.went_failing == 1 and m.restore_times == (7 * H,)


def test_a_control_excluded_halfway_is_measured_over_its_applicable_time_only() -> None:
    """The SoA excluded it at 10 h: the share is of the 10 applicable hours, and the open
    failing episode ends untimed (it was never shown restored, nor failing on after)."""
    timeline = [
        (START, S.PASSING),
        (at(6), S.FAILING),
        (at(10), S.NOT_APPLICABLE),
    ]
    m = measure_timeline(timeline, START, at(20))
    assert m.passing_share == pytest.approx(6 / 10)
    assert m.excluded == 10 * H
    assert m.failing == 4 * H
    assert m.went_failing == 1
    assert m.restore_times == () and m.open_failing_since is None
    assert m.state_at_end is S.NOT_APPLICABLE
    fields = measure_fields(m)
    assert fields["passing_pct"] == 60.0 and fields["excluded_days"] == round(10 / 24, 2)
    assert fields["state_at_end"] == "not_applicable"


def test_applicable_again_counts_a_new_failure_and_a_wholly_excluded_slice_is_none() -> None:
    timeline = [(START, S.NOT_APPLICABLE), (at(12), S.FAILING), (at(15), S.PASSING)]
    m = measure_timeline(timeline, START, at(24))
    assert m.passing_share == pytest.approx(9 / 12)
    assert m.went_failing == 1 and m.restore_times == (3 * H,)
    assert m.failing_at_start is False
    whole = measure_timeline(timeline, START, at(12))
    assert whole.passing_share is None and whole.excluded == 12 * H
    assert measure_fields(whole)["passing_pct"] is None


def test_slices_are_whole_utc_days_across_daylight_saving_changes() -> None:
    """Cuts fall at 00:00 UTC whatever a local clock did: the week of the EU spring change
    (2026-03-29) and the month of the autumn one (2026-10-25) keep exact lengths, and a day
    passing throughout counts 24 hours, never 23 or 25."""
    weeks = split_period(
        datetime(2026, 3, 23, tzinfo=UTC), datetime(2026, 4, 6, tzinfo=UTC), "week"
    )
    assert [b - a for a, b in weeks] == [7 * D, 7 * D]
    months = split_period(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    assert [b - a for a, b in months] == [31 * D, 30 * D]
    assert all(a.utcoffset() == timedelta(0) and a.hour == 0 for a, _ in weeks + months)
    day = datetime(2026, 3, 29, tzinfo=UTC)
    timeline = [(day, S.PASSING), (day + 23 * H, S.FAILING)]
    m = measure_timeline(timeline, day, day + D)
    assert m.passing_share == pytest.approx(23 / 24) and m.failing == H
