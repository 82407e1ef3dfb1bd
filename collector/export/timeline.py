"""Bounded-memory continuity input: the evidence timeline, run-length compressed per
(check, target) without changing any state ``continuity`` derives from it.

Consecutive summaries of one (check, target) with the same verdict (status, failing resources,
and for errors the same last conclusive time) collapse into the first one, carrying the last
one's ``last_conclusive_at``, as long as each follows the previous within the check's maximum
evidence age (so no staleness gap opened between them). Staleness is judged on
``last_conclusive_at`` alone, so the collapsed summary gives the same state at every instant:
fresh until the run's last conclusive evidence plus the maximum age. Memory then grows with the
number of state changes, not with the number of records.
"""

from __future__ import annotations

import collections.abc as cabc
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import timedelta

from storage import EvidenceSummary

__all__ = ["compress"]


def _verdict(item: EvidenceSummary) -> tuple[object, ...]:
    conclusive = item.last_conclusive_at if item.status == "error" else None
    return item.status, item.failing_resources, conclusive


def compress(
    history: Iterable[EvidenceSummary], max_ages: cabc.Mapping[str, timedelta | None]
) -> Iterator[EvidenceSummary]:
    """The compressed timeline; ``max_ages`` holds each check's tightest maximum age."""
    runs: dict[tuple[str, str], tuple[EvidenceSummary, EvidenceSummary]] = {}
    for item in history:
        key = (item.check_id, item.target_key)
        run = runs.get(key)
        if run is not None:
            head, last = run
            max_age = max_ages.get(item.check_id)
            fresh = (
                item.status == "error"  # same last conclusive time: identical staleness
                or max_age is None
                or last.last_conclusive_at is None
                or item.collected_at - last.last_conclusive_at <= max_age
            )
            if fresh and _verdict(item) == _verdict(head):
                runs[key] = (head, item)
                continue
            yield _collapsed(head, last)
        runs[key] = (item, item)
    for head, last in runs.values():
        yield _collapsed(head, last)


def _collapsed(head: EvidenceSummary, last: EvidenceSummary) -> EvidenceSummary:
    if head is last:
        return head
    return replace(head, last_conclusive_at=last.last_conclusive_at)
