"""Dependabot and code scanning alerts of critical or high severity left open past the
configured deadline."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.github.models import GithubCodeScanningAlerts, GithubDependabotAlerts, SecurityAlerts


def _judge(alerts: SecurityAlerts) -> Iterator[Finding]:
    for alert in alerts.alerts:
        late = alerts.overdue(alert)
        deadline = alerts.deadline_days[alert.severity]
        yield Finding(
            resource=f"{alert.repo}#{alert.number}",
            passed=late is None,
            message=f"{alert.severity} {alert.summary}, open since {alert.created_at.date()}: "
            + (f"{late} days past the {deadline}-day deadline" if late else "within deadline"),
        )


@check(
    id="github.dependabot.alerts_within_deadline",
    title="Critical and high Dependabot alerts are fixed within their deadline",
    severity="high",
    remediation="Merge the Dependabot update (or upgrade the dependency) and close the alert; "
    "record a risk acceptance for what cannot be fixed in time.",
)
def dependabot_within_deadline(alerts: GithubDependabotAlerts) -> Iterator[Finding]:
    yield from _judge(alerts)


@check(
    id="github.code_scanning.alerts_within_deadline",
    title="Critical and high code scanning alerts are fixed within their deadline",
    severity="high",
    remediation="Fix the flagged code (Copilot Autofix can propose a change) or dismiss a "
    "false positive with a reason.",
)
def code_scanning_within_deadline(alerts: GithubCodeScanningAlerts) -> Iterator[Finding]:
    yield from _judge(alerts)
