"""Security Hub failing controls: active, unsuppressed FAILED control findings of critical or
high severity (GetFindings, every page), for a region whose hub is enabled."""

from __future__ import annotations

from typing import Any

from checks.aws.models import SecurityHubState
from checks.aws.securityhub import FailedControl, SecurityHubFailures
from collector.aws.paging import pages
from collector.aws.scope import AwsScope
from collector.collect import collects

SEVERITIES = ("CRITICAL", "HIGH")
OPEN_WORKFLOW = ("NEW", "NOTIFIED")


def _any(field: str, values: tuple[str, ...]) -> dict[str, list[dict[str, str]]]:
    return {field: [{"Value": v, "Comparison": "EQUALS"} for v in values]}


FILTERS = (
    _any("ComplianceStatus", ("FAILED",))
    | _any("RecordState", ("ACTIVE",))
    | _any("WorkflowStatus", OPEN_WORKFLOW)
    | _any("SeverityLabel", SEVERITIES)
)


def _failed(finding: dict[str, Any]) -> FailedControl | None:
    """The finding as a failing control; ``None`` when its own fields say otherwise (the
    filter is applied again here, so an answer that ignored it cannot fail a control)."""
    compliance = finding.get("Compliance") or {}
    severity = (finding.get("Severity") or {}).get("Label")
    workflow = (finding.get("Workflow") or {}).get("Status")
    if (
        compliance.get("Status") != "FAILED"
        or finding.get("RecordState") != "ACTIVE"
        or workflow not in OPEN_WORKFLOW
        or severity not in SEVERITIES
    ):
        return None
    control = (
        compliance.get("SecurityControlId")
        or (finding.get("ProductFields") or {}).get("ControlId")
        or finding["GeneratorId"]
    )
    return FailedControl(control=control, severity=severity, resource=finding["Resources"][0]["Id"])


@collects(
    SecurityHubFailures,
    permissions=[
        "securityhub:DescribeHub",
        "securityhub:GetEnabledStandards",
        "securityhub:GetFindings",
    ],
    scope="region",
)
def securityhub_failures(scope: AwsScope) -> SecurityHubFailures:
    """The hub state is the region's ``SecurityHubState`` snapshot (read once per run)."""
    hub = scope.get(SecurityHubState)
    ready = tuple(s.arn for s in hub.standards if s.status == "READY")
    failed: list[FailedControl] = []
    if hub.enabled and ready:
        found = pages(scope.client("securityhub"), "get_findings", "Findings", Filters=FILTERS)
        failed = [c for c in map(_failed, found) if c is not None]
    return SecurityHubFailures(
        region=scope.region, arn=hub.arn, enabled=hub.enabled, standards=ready, failed=tuple(failed)
    )
