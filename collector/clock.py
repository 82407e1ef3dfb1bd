"""The one wall clock: collectors, the runner and the daemon read time here (checks and status
evaluation never do: ``now`` is their parameter)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
