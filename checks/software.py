"""Deny-list judging shared by the software inventory checks (Intune's detected apps, Fleet's
software titles): one finding per deny-list glob, failing with what matched and where."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fnmatch import fnmatch

from checks.api import Finding


def denied_findings(
    patterns: Iterable[str],
    installed: Iterable[tuple[str, str, int]],
    *,
    resource: str,
    noun: str,
    nowhere: str,
) -> Iterator[Finding]:
    """``installed``: (name, label, count of devices or hosts); an item on none is absent.
    Names match the globs case-insensitively."""
    items = [i for i in installed if i[2]]
    for pattern in patterns:
        found = [(label, n) for name, label, n in items if fnmatch(name.lower(), pattern.lower())]
        listed = ", ".join(f"{label} on {n} {noun}" for label, n in found)
        yield Finding(
            resource=f"{resource}/denied/{pattern}",
            passed=not found,
            message=f"installed: {listed}" if found else nowhere,
        )
