"""Test a check in three lines::

from checks.testing import verdicts
assert verdicts(public_access_blocked, S3Buckets(buckets=[...])) == {("arn:...", False)}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from checks.api import Finding, Snapshot, spec_of

__all__ = ["findings", "verdicts"]


def findings(check: Callable[..., Any], *snapshots: Snapshot) -> list[Finding]:
    """Run a ``@check`` function on hand-built snapshots (matched to parameters by type)."""
    spec = spec_of(check)
    if spec is None:
        raise TypeError(f"{check!r} is not decorated with @check")
    by_type = {type(s): s for s in snapshots}
    missing = [k.__name__ for k in spec.inputs if k not in by_type]
    if missing:
        raise TypeError(f"{spec.id} also needs: {', '.join(missing)}")
    return spec.evaluate(by_type)


def verdicts(check: Callable[..., Any], *snapshots: Snapshot) -> set[tuple[str, bool]]:
    """The exact set of (resource, passed) pairs a check yields."""
    return {(f.resource, f.passed) for f in findings(check, *snapshots)}
