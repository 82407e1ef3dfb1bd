"""Defender for Cloud findings: vulnerabilities fixed within the SLA, high alerts triaged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Finding, SnapshotPart, check
from checks.azure.models import _AzureSnapshot

#: Severities that count: Defender's sub-assessments say High at most; MDVM details say Critical.
URGENT = frozenset({"critical", "high"})


class VulnerableResource(SnapshotPart):
    """A resource with open high or critical vulnerability findings (unhealthy sub-assessments).

    ``open_since``: when the parent assessment last turned Unhealthy on this resource (Defender
    gives no first-seen date per vulnerability); None when the parent's status has no date.
    """

    resource: str
    vulnerabilities: tuple[str, ...]  # CVE or finding ids, sorted
    open_since: AwareDatetime | None


class DefenderVulnerabilities(_AzureSnapshot):
    """One subscription's open high/critical vulnerability findings, and machines unscanned."""

    resource_noun: ClassVar[str] = "vulnerable resources"
    subscription: str
    collected_at: AwareDatetime
    sla_days: int
    resources: tuple[VulnerableResource, ...]
    unscanned: tuple[str, ...] = ()  # machines whose "needs a VA solution" assessment is Unhealthy


class SecurityAlert(SnapshotPart):
    id: str
    name: str  # alertDisplayName
    severity: str  # Informational | Low | Medium | High
    status: str  # Active | InProgress | Resolved | Dismissed
    generated_at: AwareDatetime  # timeGeneratedUtc
    entity: str | None  # compromisedEntity


class DefenderAlerts(_AzureSnapshot):
    """One subscription's Defender for Cloud alerts of high severity that are not closed."""

    resource_noun: ClassVar[str] = "high-severity alerts"
    subscription: str
    collected_at: AwareDatetime
    max_age_days: int
    alerts: tuple[SecurityAlert, ...]


@check(
    id="azure.defender.vulnerabilities_within_sla",
    title="High and critical Defender vulnerability findings are fixed within the SLA",
    severity="high",
    interval="24h",
    remediation="Patch or rebuild the resource so its high and critical findings resolve, "
    "within azure.vulnerability_sla_days; deploy a vulnerability assessment solution on "
    "machines Defender reports without one.",
)
def vulnerabilities_within_sla(snapshot: DefenderVulnerabilities) -> Iterator[Finding]:
    """One finding per resource with open high/critical findings, failing once it has carried
    them longer than the SLA (or since an unknown date); machines without a vulnerability
    scanner fail too, since their findings cannot be seen."""
    for item in snapshot.resources:
        shown = ", ".join(item.vulnerabilities[:5])
        more = len(item.vulnerabilities) - 5
        listed = f"{shown} and {more} more" if more > 0 else shown
        count = f"{len(item.vulnerabilities)} high/critical ({listed})"
        if item.open_since is None:
            yield Finding(
                resource=item.resource,
                passed=False,
                message=f"{count}, open since an unknown date",
            )
            continue
        days = (snapshot.collected_at - item.open_since).days
        late = days > snapshot.sla_days
        yield Finding(
            resource=item.resource,
            passed=not late,
            message=f"{count}, unresolved for {days} days"
            f" ({'over' if late else 'within'} the {snapshot.sla_days}-day SLA)",
        )
    for machine in snapshot.unscanned:
        yield Finding(
            resource=machine,
            passed=False,
            message="no vulnerability assessment solution reports on this machine",
        )


@check(
    id="azure.defender.high_alerts_triaged",
    title="High-severity Defender for Cloud alerts are triaged within the deadline",
    severity="high",
    interval="6h",
    remediation="Investigate each alert and set it In progress, Resolved or Dismissed in "
    "Defender for Cloud > Security alerts, within azure.alert_max_age_days of its creation.",
)
def high_alerts_triaged(snapshot: DefenderAlerts) -> Iterator[Finding]:
    """One finding per high-severity alert still Active or In progress: an Active alert older
    than the deadline fails (nobody took it); In progress means someone did."""
    for alert in snapshot.alerts:
        days = (snapshot.collected_at - alert.generated_at).days
        late = alert.status == "Active" and days > snapshot.max_age_days
        where = f" on {alert.entity}" if alert.entity else ""
        yield Finding(
            resource=alert.id,
            passed=not late,
            message=f"{alert.name}{where}: {alert.status} for {days} days"
            f" (deadline {snapshot.max_age_days})",
        )
