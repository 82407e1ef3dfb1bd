"""The run-length rule that bounds a timeline's size: consecutive records of one (check,
target) with the same verdict collapse into the first, as long as none arrived later than the
check's maximum evidence age after the previous conclusive one (so no staleness gap opened
between them). ``HistoryStore.timeline(max_ages=...)`` applies it while reading, and
``collector.continuity.compress`` to summaries already in memory: one rule for both."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from storage.records import EvidenceSummary

__all__ = ["RunKey", "collapse_runs", "run_key"]

T = TypeVar("T")
# (check id, target key), collected at, last conclusive at, verdict (status first)
RunKey = tuple[tuple[str, str], datetime, datetime | None, tuple[Hashable, ...]]


def run_key(item: EvidenceSummary) -> RunKey:
    """The ``RunKey`` of a summary: its verdict is its status and failing resources, and for
    an error the last conclusive time it carries."""
    conclusive = item.last_conclusive_at if item.status == "error" else None
    verdict = (item.status, item.failing_resources, conclusive)
    return (item.check_id, item.target_key), item.collected_at, item.last_conclusive_at, verdict


def collapse_runs(
    items: Iterable[tuple[T, RunKey]], max_ages: Mapping[str, timedelta | None]
) -> Iterator[tuple[T, datetime | None]]:
    """Each run's first item and the last item's ``last_conclusive_at``, per (check, target)
    in order; ``items`` pairs each item with its ``RunKey``, oldest first. ``max_ages`` holds
    each check's tightest maximum age (None or absent: never stale). An ``error`` verdict
    carries its last conclusive time, so errors collapse only onto the same one."""
    runs: dict[tuple[str, str], tuple[T, tuple[Hashable, ...], datetime | None]] = {}
    for item, (key, collected_at, conclusive_at, verdict) in items:
        run = runs.get(key)
        if run is not None:
            head, head_verdict, last_conclusive = run
            if verdict == head_verdict:
                max_age = max_ages.get(key[0])
                if (
                    verdict[0] == "error"  # same last conclusive time: identical staleness
                    or max_age is None
                    or last_conclusive is None
                    or collected_at - last_conclusive <= max_age
                ):
                    runs[key] = (head, head_verdict, conclusive_at)
                    continue
            yield head, last_conclusive
        runs[key] = (item, verdict, conclusive_at)
    for head, _, last_conclusive in runs.values():
        yield head, last_conclusive
