"""Open Dependabot and code scanning alerts of critical or high severity, organisation-wide.
A plan without the feature (code scanning on private repositories needs GitHub Advanced
Security / Code Security) answers 404 or 403: an ERROR saying so, never an empty list."""

from __future__ import annotations

from typing import Any

from checks.github.models import (
    ALERT_SEVERITIES,
    GithubCodeScanningAlerts,
    GithubDependabotAlerts,
    SecurityAlert,
)
from collector.collect import collects
from collector.github.api import (
    CODE_SCANNING_ALERTS,
    DEPENDABOT_ALERTS,
    Scope,
    listed,
    unavailable,
)
from collector.http import ApiError


def _open(scope: Scope, kind: str, feature: str, permission: str, **params: str) -> list[Any]:
    org = scope.target.account
    try:
        return listed(scope, f"/orgs/{org}/{kind}/alerts", permission, state="open", **params)
    except ApiError as exc:
        raise unavailable(exc, feature, org) or exc from None


@collects(GithubDependabotAlerts, permissions=[DEPENDABOT_ALERTS])
def dependabot_alerts(scope: Scope) -> GithubDependabotAlerts:
    found = _open(
        scope, "dependabot", "Dependabot alerts", DEPENDABOT_ALERTS, severity="critical,high"
    )
    alerts = []
    for a in found:
        advisory = a.get("security_advisory") or {}
        package = ((a.get("dependency") or {}).get("package") or {}).get("name", "?")
        advisory_text = f"{advisory.get('ghsa_id', '')} {advisory.get('summary', '')}".strip()
        alerts.append(
            SecurityAlert(
                repo=a["repository"]["full_name"],
                number=a["number"],
                severity=(a.get("security_vulnerability") or {}).get("severity")
                or advisory["severity"],
                created_at=a["created_at"],
                summary=f"{package}: {advisory_text}",
                url=a.get("html_url") or "",
            )
        )
    return GithubDependabotAlerts(
        org=scope.target.account,
        collected_at=scope.now(),
        deadline_days=dict(scope.settings.alert_deadline_days),
        alerts=tuple(x for x in alerts if x.severity in ALERT_SEVERITIES),
    )


@collects(GithubCodeScanningAlerts, permissions=[CODE_SCANNING_ALERTS])
def code_scanning_alerts(scope: Scope) -> GithubCodeScanningAlerts:
    found = _open(scope, "code-scanning", "code scanning", CODE_SCANNING_ALERTS)
    alerts = []
    for a in found:
        rule = a.get("rule") or {}
        severity = rule.get("security_severity_level")
        if severity not in ALERT_SEVERITIES:
            continue  # quality findings and lower security severities are not judged
        alerts.append(
            SecurityAlert(
                repo=a["repository"]["full_name"],
                number=a["number"],
                severity=severity,
                created_at=a["created_at"],
                summary=f"{(a.get('tool') or {}).get('name', '?')} {rule.get('id', '')}".strip(),
                url=a.get("html_url") or "",
            )
        )
    return GithubCodeScanningAlerts(
        org=scope.target.account,
        collected_at=scope.now(),
        deadline_days=dict(scope.settings.alert_deadline_days),
        alerts=tuple(alerts),
    )
