"""Exceptions (risk acceptances): which failing findings an approved exception covers.

An exception names a check id, an fnmatch pattern over the finding's resource and one over the
evaluation target key (``aws:123456789012:eu-west-1``; ``*`` by default). It covers a failing
finding at instant ``at`` when it is active then: created at or before ``at``, expiring after
it, and not revoked at or before it (so point-in-time status sees exceptions as they were).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from fnmatch import fnmatchcase

from storage.records import RiskException

__all__ = ["accepting", "covers", "describe"]


def covers(exception: RiskException, check_id: str, target_key: str, resource: str) -> bool:
    """Whether ``exception`` names this check and matches this target and resource."""
    return (
        exception.check_id == check_id
        and fnmatchcase(target_key, exception.target_pattern)
        and fnmatchcase(resource, exception.resource_pattern)
    )


def accepting(
    exceptions: Iterable[RiskException],
    check_id: str,
    target_key: str,
    resources: Sequence[str],
    at: datetime,
) -> dict[str, RiskException]:
    """Failing resource -> the active exception (lowest id) that accepts it at ``at``."""
    active = [e for e in exceptions if e.check_id == check_id and e.active_at(at)]
    accepted: dict[str, RiskException] = {}
    for resource in resources:
        for exception in sorted(active, key=lambda e: e.id):
            if covers(exception, check_id, target_key, resource):
                accepted[resource] = exception
                break
    return accepted


def describe(used: Iterable[RiskException]) -> str:
    """``exception #3 (approved by J. Doe, expires 2026-06-30T00:00:00+00:00: vendor fix due)``,
    several joined by semicolons: the reason, approver and expiry an auditor asks for."""
    unique = sorted({e.id: e for e in used}.values(), key=lambda e: e.id)
    label = "exception" if len(unique) == 1 else "exceptions"
    parts = [
        f"#{e.id} (approved by {e.approved_by}, expires "
        f"{e.expires_at.isoformat(timespec='seconds')}: {e.reason})"
        for e in unique
    ]
    return f"{label} {'; '.join(parts)}"
