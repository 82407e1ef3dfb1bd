"""Test a check in three lines::

from checks.testing import verdicts
assert verdicts(public_access_blocked, S3Buckets(buckets=[...])) == {("arn:...", False)}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from checks.api import Across, Finding, Snapshot, spec_of

__all__ = ["findings", "verdicts"]


def findings(check: Callable[..., Any], *snapshots: Snapshot | Across[Any]) -> list[Finding]:
    """Run a ``@check`` function on hand-built snapshots (matched to parameters by type; a
    cross-provider input is given as ``Across(Kind, {"aws:123456789012": snapshot, ...})``)."""
    spec = spec_of(check)
    if spec is None:
        raise TypeError(f"{check!r} is not decorated with @check")
    by_type = {s.kind if isinstance(s, Across) else type(s): s for s in snapshots}
    wrong = [k.__name__ for k in spec.across if not isinstance(by_type.get(k, Across(k)), Across)]
    if wrong:
        raise TypeError(f"{spec.id} takes these as Across(...): {', '.join(wrong)}")
    missing = [k.__name__ for k in spec.inputs if k not in by_type]
    if missing:
        raise TypeError(f"{spec.id} also needs: {', '.join(missing)}")
    return spec.evaluate(by_type)


def verdicts(
    check: Callable[..., Any], *snapshots: Snapshot | Across[Any]
) -> set[tuple[str, bool]]:
    """The exact set of (resource, passed) pairs a check yields."""
    return {(f.resource, f.passed) for f in findings(check, *snapshots)}
