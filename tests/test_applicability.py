"""Applicability over time: the SoA given, corrected by the daemon's recorded transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from collector.applicability import applicability
from collector.soa import Soa, SoaEntry
from storage import Transition

T0 = datetime(2026, 1, 1, tzinfo=UTC)
D = timedelta(days=1)


def moved(control: str, before: str | None, after: str, day: int, id_: int) -> Transition:
    return Transition(id_, control, before, after, T0 + day * D, (), "none")


def soa(**applicable: bool) -> Soa:
    entries = {
        c: SoaEntry(c, a, "" if a else "outsourced", "", "", None, "soa.yaml")
        for c, a in ((k.replace("_", "."), v) for k, v in applicable.items())
    }
    return Soa(Path("soa.yaml"), entries)


def test_recorded_exclusions_carve_windows_and_agreeing_records_change_nothing() -> None:
    transitions = [
        moved("A.8.3", "passing", "not_applicable", 10, 3),  # out of order on purpose
        moved("A.8.3", None, "passing+at_risk", 2, 1),
        moved("A.8.3", "not_applicable", "failing", 20, 4),
        moved("A.5.1", None, "passing", 2, 2),  # agrees with the SoA: left to the SoA
    ]
    found = applicability(transitions, soa(A_8_3=True, A_5_1=True))
    assert set(found) == {"A.8.3"}
    a83 = found["A.8.3"]
    assert a83.windows(T0, T0 + 30 * D) == [(T0, True), (T0 + 10 * D, False), (T0 + 20 * D, True)]
    # a period starting inside the exclusion opens excluded; one inside it is never applicable
    assert a83.windows(T0 + 12 * D, T0 + 25 * D) == [(T0 + 12 * D, False), (T0 + 20 * D, True)]
    assert not a83.ever(T0 + 11 * D, T0 + 20 * D)
    assert a83.ever(T0 + 11 * D, T0 + 20 * D + timedelta(seconds=1))


def test_before_the_first_record_the_soa_given_decides() -> None:
    found = applicability([moved("A.7.5", None, "passing", 5, 1)], soa(A_7_5=False))
    assert found["A.7.5"].windows(T0, T0 + 10 * D) == [(T0, False), (T0 + 5 * D, True)]
    assert applicability([moved("A.7.5", None, "not_applicable", 5, 1)], soa(A_7_5=False)) == {}
