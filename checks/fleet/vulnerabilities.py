"""Fleet software vulnerabilities: critical and high CVEs on hosts fixed within deadline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Finding, check
from checks.deadlines import DeadlineDays, OpenFinding, judge_open
from checks.fleet.models import _FleetSnapshot

CRITICAL_CVSS = 9.0
HIGH_CVSS = 7.0
#: Fleet refreshes vulnerability counts hourly by default; older counts mean scanning stopped.
FRESH_COUNTS = timedelta(days=2)


class FleetVulnerabilities(_FleetSnapshot):
    """CVEs Fleet finds on at least one host, rated critical (CVSS >= 9) or high (>= 7)."""

    resource_noun: ClassVar[str] = "critical and high CVEs"

    server: str
    collected_at: AwareDatetime
    counts_updated_at: AwareDatetime | None  # None: Fleet never ran its vulnerability job
    deadline_days: DeadlineDays
    items: tuple[OpenFinding, ...]


@check(
    id="fleet.vulnerabilities.within_deadline",
    title="Critical and high CVEs on Fleet hosts are fixed within their deadline",
    severity="high",
    interval="24h",
    remediation="Update or remove the vulnerable software on the affected hosts (Fleet shows "
    "the fixed version), or record a risk acceptance for what cannot be fixed in time.",
)
def within_deadline(snapshot: FleetVulnerabilities) -> Iterator[Finding]:
    """One verdict per CVE on at least one host; none passes only when Fleet's counts are fresh
    (stale or missing counts mean nobody is looking)."""
    yield from judge_open(snapshot.items, snapshot.collected_at, snapshot.deadline_days)
    if snapshot.items:
        return
    updated = snapshot.counts_updated_at
    fresh = updated is not None and snapshot.collected_at - updated <= FRESH_COUNTS
    yield Finding(
        resource=snapshot.server,
        passed=fresh,
        message=f"no critical or high CVEs on any host (counts of {updated:%Y-%m-%d %H:%M} UTC)"
        if fresh
        else f"vulnerability counts last updated {updated or 'never'}: scanning is not running",
    )
