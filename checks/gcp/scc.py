"""Security Command Center: critical and high vulnerability findings fixed within their
deadline; high and critical threat findings triaged (muted or made inactive) in time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Finding, check
from checks.deadlines import DeadlineDays, OpenFinding, judge_open
from checks.gcp.models import _GcpSnapshot


class GcpSccFindings(_GcpSnapshot):
    """The scope's ACTIVE critical and high SCC findings of class VULNERABILITY and THREAT
    (threats muted by a person or a mute rule are left out: muting is SCC's triage)."""

    resource_noun: ClassVar[str] = "critical and high findings"

    scope: str
    collected_at: AwareDatetime
    deadline_days: DeadlineDays
    threat_max_age_days: int
    vulnerabilities: tuple[OpenFinding, ...]
    threats: tuple[OpenFinding, ...]


@check(
    id="gcp.scc.vulnerabilities_within_deadline",
    title="Critical and high Security Command Center vulnerabilities are fixed within deadline",
    severity="high",
    interval="24h",
    remediation="Patch or reconfigure the affected resource (SCC makes the finding INACTIVE on "
    "its next scan), or record a risk acceptance for what cannot be fixed in time.",
)
def vulnerabilities_within_deadline(snapshot: GcpSccFindings) -> Iterator[Finding]:
    """One verdict per active finding; none open is one passing verdict for the scope."""
    yield from judge_open(snapshot.vulnerabilities, snapshot.collected_at, snapshot.deadline_days)
    if not snapshot.vulnerabilities:
        yield Finding(
            resource=snapshot.scope,
            passed=True,
            message="no active critical or high vulnerability findings",
        )


@check(
    id="gcp.scc.threats_triaged",
    title="High and critical Security Command Center threats are triaged within the deadline",
    severity="high",
    interval="6h",
    remediation="Investigate the threat, then mark the finding inactive or mute it (a mute "
    "rule for expected activity); within gcp.threat_max_age_days.",
)
def threats_triaged(snapshot: GcpSccFindings) -> Iterator[Finding]:
    """One verdict per active unmuted threat; none open is one passing verdict."""
    days = snapshot.threat_max_age_days
    yield from judge_open(snapshot.threats, snapshot.collected_at, {"critical": days, "high": days})
    if not snapshot.threats:
        yield Finding(
            resource=snapshot.scope, passed=True, message="no active high or critical threats"
        )
