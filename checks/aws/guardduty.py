"""GuardDuty findings: high-severity findings are triaged (archived) within a deadline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot

HIGH_SEVERITY = 7.0  # GuardDuty: 7.0-8.9 high, 9.0-10.0 critical


class ThreatFinding(SnapshotPart):
    """One active (not archived) GuardDuty finding of high or critical severity."""

    arn: str
    title: str
    kind: str  # the finding type, e.g. UnauthorizedAccess:EC2/SSHBruteForce
    severity: float
    created_at: AwareDatetime


class GuardDutyFindings(_AwsSnapshot):
    """One region's active high-severity GuardDuty findings (every detector, every page)."""

    resource_noun: ClassVar[str] = "high-severity findings"

    region: str
    collected_at: AwareDatetime
    max_age_days: int
    detectors: tuple[str, ...]
    items: tuple[ThreatFinding, ...]


@check(
    id="aws.guardduty.high_findings_triaged",
    title="High-severity GuardDuty findings are triaged within the deadline",
    severity="high",
    interval="6h",
    remediation="Investigate each finding, then archive it (or suppress it with a filter when "
    "it is expected); within aws.finding_max_age_days of its creation.",
)
def high_findings_triaged(snapshot: GuardDutyFindings) -> Iterator[Finding]:
    """One finding per active high or critical GuardDuty finding: open past the deadline fails."""
    for item in snapshot.items:
        days = (snapshot.collected_at - item.created_at).days
        late = days > snapshot.max_age_days
        yield Finding(
            resource=item.arn,
            passed=not late,
            message=f"{item.kind} (severity {item.severity:g}) open {days} days"
            f" ({'over' if late else 'within'} the {snapshot.max_age_days}-day deadline)",
        )
