"""When each control was applicable: the SoA given, corrected by what the store recorded.

annexa keeps no copy of past SoAs, but the daemon records every change of a control's state
as a ledgered transition, and a transition to ``not_applicable`` is made only when the SoA it
ran with excluded the control (one away from it: the SoA applied it again). Those records say
when the control was applicable; where there are none (before a control's first transition,
or a store no daemon wrote to) the SoA given decides. A pure function: no clock, no store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from collector.soa import Soa
from collector.status import ControlState
from storage.records import Transition

__all__ = ["Applicability", "applicability"]


@dataclass(frozen=True)
class Applicability:
    """One control's applicability over time: ``before`` until the first change, then each
    ``(instant, applicable)`` change in time order."""

    before: bool
    changes: tuple[tuple[datetime, bool], ...]

    def windows(self, start: datetime, end: datetime) -> list[tuple[datetime, bool]]:
        """Applicable or not from each instant of ``[start, end)`` on, the first at ``start``."""
        current = self.before
        found: list[tuple[datetime, bool]] = []
        for when, applicable in self.changes:
            if when >= end:
                break
            if when <= start:
                current = applicable
                continue
            if not found:
                found.append((start, current))
            if applicable != found[-1][1]:
                found.append((when, applicable))
        return found or [(start, current)]

    def ever(self, start: datetime, end: datetime) -> bool:
        """Whether the control was applicable at some instant of ``[start, end)``."""
        return any(applicable for _, applicable in self.windows(start, end))


def applicability(transitions: Iterable[Transition], soa: Soa | None) -> dict[str, Applicability]:
    """The controls whose recorded applicability differs at some time from what ``soa`` says
    (absent controls: the SoA alone decides, at every instant)."""
    by_control: dict[str, list[Transition]] = {}
    for transition in transitions:
        by_control.setdefault(transition.control_id, []).append(transition)
    found = {}
    for control, recorded in by_control.items():
        entry = soa.entry(control) if soa is not None else None
        given = entry is None or entry.applicable
        recorded.sort(key=lambda t: (t.at, t.id))
        changes = tuple(
            (t.at, t.to_state.split("+")[0] != ControlState.NOT_APPLICABLE.value) for t in recorded
        )
        if any(applicable != given for _, applicable in changes):
            found[control] = Applicability(given, changes)
    return found
