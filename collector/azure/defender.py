"""ARM collectors for Defender for Cloud findings: vulnerability sub-assessments and alerts.

Reader covers both (``Microsoft.Security/assessments/read``, ``.../subAssessments/read``,
``.../alerts/read``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from checks.azure.defender import (
    URGENT,
    DefenderAlerts,
    DefenderVulnerabilities,
    SecurityAlert,
    VulnerableResource,
)
from collector.azure.arm import READER, list_resources, properties
from collector.azure.errors import MalformedResponse
from collector.azure.scope import AzureScope
from collector.collect import collects

ASSESSMENTS_API = "2021-06-01"
SUB_ASSESSMENTS_API = "2019-01-01-preview"
ALERTS_API = "2022-01-01"
#: "Machines should have a vulnerability assessment solution": Unhealthy = nothing scans it.
NO_SCANNER = "ffff0522-1e88-47fc-8382-2a80ba848f5d"
_SEP = "/providers/microsoft.security/assessments/"


def _field(item: dict[str, Any], path: str, request: str) -> Any:
    value: Any = item
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        raise MalformedResponse(request, f"{item.get('id', 'an item')} has no {path}")
    return value


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


@collects(DefenderVulnerabilities, permissions=[READER])
def defender_vulnerabilities(scope: AzureScope) -> DefenderVulnerabilities:
    """Unhealthy high/critical sub-assessments grouped by resource, each resource dated by its
    parent assessment's last change to Unhealthy; machines Defender says nothing scans."""
    listed = f"GET {scope.subscription}/providers/Microsoft.Security/assessments"
    assessments = list_resources(scope, "Microsoft.Security/assessments", ASSESSMENTS_API)
    changed: dict[str, datetime | None] = {}
    unscanned = []
    for item in assessments:
        status = _field(properties(item, "assessment"), "status.code", listed)
        props = item["properties"]
        changed[item["id"].lower()] = _when((props.get("status") or {}).get("statusChangeDate"))
        if item.get("name", "").lower() == NO_SCANNER and status == "Unhealthy":
            unscanned.append(_field(props, "resourceDetails.id", listed))
    found: dict[str, list[str]] = {}
    since: dict[str, list[datetime | None]] = {}
    request = f"GET {scope.subscription}/providers/Microsoft.Security/subAssessments"
    subs = list_resources(scope, "Microsoft.Security/subAssessments", SUB_ASSESSMENTS_API)
    for item in subs:
        props = properties(item, "sub-assessment")
        if _field(props, "status.code", request) != "Unhealthy":
            continue
        if _severity(props, request) not in URGENT:
            continue
        resource = _field(props, "resourceDetails.id", request)
        found.setdefault(resource, []).append(str(props.get("id") or item.get("name")))
        parent = item["id"].lower().partition("/subassessments/")[0]
        since.setdefault(resource, []).append(changed.get(parent))
    resources = tuple(
        VulnerableResource(
            resource=resource,
            vulnerabilities=tuple(sorted(set(ids))),
            open_since=_earliest(since[resource]),
        )
        for resource, ids in sorted(found.items())
    )
    return DefenderVulnerabilities(
        subscription=scope.subscription,
        collected_at=scope.now(),
        sla_days=scope.settings.vulnerability_sla_days,
        resources=resources,
        unscanned=tuple(sorted(set(unscanned))),
    )


def _earliest(dates: list[datetime | None]) -> datetime | None:
    """The earliest date, or None when any is unknown (unknown is never young enough)."""
    known = [d for d in dates if d is not None]
    return min(known) if len(known) == len(dates) else None


def _severity(props: dict[str, Any], request: str) -> str:
    """The finding's severity: the MDVM detail (may say Critical) or the status's."""
    detail = ((props.get("additionalData") or {}).get("vulnerabilityDetails") or {}).get("severity")
    return str(detail or _field(props, "status.severity", request)).lower()


@collects(DefenderAlerts, permissions=[READER])
def defender_alerts(scope: AzureScope) -> DefenderAlerts:
    """High-severity alerts not yet Resolved or Dismissed, every page."""
    alerts = []
    request = f"GET {scope.subscription}/providers/Microsoft.Security/alerts"
    for item in list_resources(scope, "Microsoft.Security/alerts", ALERTS_API):
        props = properties(item, "security alert")
        severity = _field(props, "severity", request)
        status = _field(props, "status", request)
        if severity != "High" or status in ("Resolved", "Dismissed"):
            continue
        alerts.append(
            SecurityAlert(
                id=item["id"],
                name=props.get("alertDisplayName") or props.get("alertType") or item["id"],
                severity=severity,
                status=status,
                generated_at=_field(props, "timeGeneratedUtc", request),
                entity=props.get("compromisedEntity"),
            )
        )
    return DefenderAlerts(
        subscription=scope.subscription,
        collected_at=scope.now(),
        max_age_days=scope.settings.alert_max_age_days,
        alerts=tuple(alerts),
    )
