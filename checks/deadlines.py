"""Critical and high findings left open past a deadline per severity (any scanner).

A snapshot of open findings carries its collection time and the configured deadline days;
:func:`judge_open` turns it into one verdict per finding. Shared by the Inspector, Security
Command Center and Fleet vulnerability checks so "late" means the same on every provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime

from checks.api import Finding, SnapshotPart

__all__ = ["DeadlineDays", "OpenFinding", "judge_open"]

DeadlineSeverity = Literal["critical", "high"]


def _both(days: dict[str, int]) -> dict[str, int]:
    if set(days) != {"critical", "high"} or min(days.values()) < 1:
        raise ValueError("needs critical and high, each at least 1 day")
    return days


#: Days an open critical / high finding may stay open (settings and snapshots).
DeadlineDays = Annotated[dict[DeadlineSeverity, int], AfterValidator(_both)]


class OpenFinding(SnapshotPart):
    """One open finding: who reported it, on what, and since when."""

    resource: str  # the finding's own id or ARN: one verdict per finding
    severity: DeadlineSeverity
    opened_at: AwareDatetime  # first observed / event time
    summary: str  # the vulnerability or category, never payload data
    affected: str  # the resource it is about (instance, image, host)


def judge_open(
    items: Iterable[OpenFinding], collected_at: AwareDatetime, deadline_days: dict[str, int]
) -> Iterator[Finding]:
    """One finding per item: open longer than its severity's deadline fails."""
    for item in items:
        age = (collected_at - item.opened_at).days
        deadline = deadline_days[item.severity]
        late = age > deadline
        yield Finding(
            resource=item.resource,
            passed=not late,
            message=f"{item.severity} {item.summary} on {item.affected}, open {age} days "
            f"({'past' if late else 'within'} the {deadline}-day deadline)",
        )
