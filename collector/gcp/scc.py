"""Security Command Center findings of a scope: one ListFindings sweep (every source, every
page) filtered server-side to ACTIVE critical and high findings."""

from __future__ import annotations

from typing import Any

from checks.deadlines import OpenFinding
from checks.gcp.scc import GcpSccFindings
from collector.collect import collects
from collector.gcp.scope import LIST_FINDINGS, GcpScope

ACTIVE_CRITICAL_HIGH = (
    'state="ACTIVE" AND (severity="CRITICAL" OR severity="HIGH") '
    'AND (finding_class="VULNERABILITY" OR finding_class="THREAT")'
)


def _open(finding: dict[str, Any]) -> OpenFinding:
    """A finding without ``createTime``, ``severity`` or ``resourceName`` raises: never a pass."""
    cve = finding.get("vulnerability", {}).get("cve", {}).get("id")
    return OpenFinding(
        resource=finding.get("canonicalName") or finding["name"],
        severity=finding["severity"].lower(),
        opened_at=finding["createTime"],
        summary=f"{finding['category']} {cve}" if cve else finding["category"],
        affected=finding["resourceName"],
    )


@collects(GcpSccFindings, permissions=[f"gcp:{LIST_FINDINGS}"])
def scc_findings(scope: GcpScope) -> GcpSccFindings:
    """Findings of another class (misconfigurations) are not asked for; a class the filter let
    through by mistake is an error."""
    now = scope.now()
    vulnerabilities, threats = [], []
    for result in scope.list_findings(ACTIVE_CRITICAL_HIGH):
        finding = result["finding"]
        kind = finding["findingClass"]
        if kind == "VULNERABILITY":
            vulnerabilities.append(_open(finding))
        elif kind == "THREAT":
            if finding.get("mute") != "MUTED":
                threats.append(_open(finding))
        else:
            raise ValueError(f"ListFindings answered a {kind} finding the filter excludes")
    settings = scope.settings
    return GcpSccFindings(
        scope=scope.name,
        collected_at=now,
        deadline_days=settings.vulnerability_deadline_days,
        threat_max_age_days=settings.threat_max_age_days,
        vulnerabilities=tuple(vulnerabilities),
        threats=tuple(threats),
    )
