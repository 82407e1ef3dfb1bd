"""Inspector collectors: the account's scanning status (BatchGetAccountStatus) and its active
critical and high findings (ListFindings) in the scope's region."""

from __future__ import annotations

from typing import Any

from checks.aws.inspector import InspectorFindings, InspectorStatus
from checks.deadlines import OpenFinding
from collector.aws.paging import pages
from collector.aws.scope import AwsScope
from collector.clock import utcnow
from collector.collect import collects


@collects(InspectorStatus, permissions=["inspector2:BatchGetAccountStatus"], scope="region")
def inspector_status(scope: AwsScope) -> InspectorStatus:
    """AWS answers DISABLED for an account that never enabled Inspector; an account missing
    from the answer (``failedAccounts``) is an error, never a verdict."""
    answer = scope.client("inspector2").batch_get_account_status(accountIds=[scope.account_id])
    mine = [a for a in answer.get("accounts", []) if a.get("accountId") == scope.account_id]
    if not mine:
        failed = answer.get("failedAccounts") or [{}]
        raise ValueError(
            f"inspector2 BatchGetAccountStatus has no status for {scope.account_id}: "
            f"{failed[0].get('errorCode', 'no answer')} {failed[0].get('errorMessage', '')}".strip()
        )
    status = mine[0]
    return InspectorStatus(
        region=scope.region,
        arn=scope.arn("inspector2", "account-status", region=scope.region),
        state=status["state"]["status"],
        resource_states={k: v["status"] for k, v in status.get("resourceState", {}).items()},
    )


_ACTIVE_CRITICAL_HIGH = {
    "findingStatus": [{"comparison": "EQUALS", "value": "ACTIVE"}],
    "severity": [
        {"comparison": "EQUALS", "value": "CRITICAL"},
        {"comparison": "EQUALS", "value": "HIGH"},
    ],
}


def _open_finding(found: dict[str, Any]) -> OpenFinding:
    """A missing field raises (KeyError): a finding that cannot be dated is never a pass."""
    package = found.get("packageVulnerabilityDetails") or {}
    return OpenFinding(
        resource=found["findingArn"],
        severity=found["severity"].lower(),
        opened_at=found["firstObservedAt"],
        summary=package.get("vulnerabilityId") or found["title"],
        affected=found["resources"][0]["id"],
    )


@collects(
    InspectorFindings,
    permissions=["inspector2:BatchGetAccountStatus", "inspector2:ListFindings"],
    scope="region",
)
def inspector_findings(scope: AwsScope) -> InspectorFindings:
    """ListFindings (every page) filtered server-side to ACTIVE CRITICAL/HIGH; the region's
    scanning state comes from its ``InspectorStatus`` snapshot (one BatchGetAccountStatus)."""
    now, status = utcnow(), scope.get(InspectorStatus)
    found = pages(
        scope.client("inspector2"),
        "list_findings",
        "findings",
        filterCriteria=_ACTIVE_CRITICAL_HIGH,
    )
    return InspectorFindings(
        region=scope.region,
        arn=status.arn,
        scanning=tuple(sorted(k for k, v in status.resource_states.items() if v == "ENABLED")),
        collected_at=now,
        deadline_days=scope.settings.vulnerability_deadline_days,
        items=tuple(_open_finding(f) for f in found),
    )
