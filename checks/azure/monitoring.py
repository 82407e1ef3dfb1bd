"""Security monitoring checks: Defender for Cloud plans, Activity Log export."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.azure.models import ActivityLogExports, DefenderPlans

#: Activity Log categories an export must keep: control-plane writes and security alerts.
REQUIRED_CATEGORIES = ("Administrative", "Security")


@check(
    id="azure.defender.plans_standard",
    title="Microsoft Defender for Cloud key plans are on (Standard tier)",
    severity="high",
    remediation="Turn the plan on in Defender for Cloud > Environment settings "
    "(az security pricing create -n <plan> --tier standard); the required plans are the "
    "config's azure.defender_plans.",
)
def plans_standard(defender: DefenderPlans) -> Iterator[Finding]:
    """One finding per required plan; a plan the subscription does not list is not on."""
    tiers = {plan.name.lower(): plan.tier for plan in defender.plans}
    for name in defender.required:
        tier = tiers.get(name.lower())
        yield Finding(
            resource=f"{defender.subscription}/providers/Microsoft.Security/pricings/{name}",
            passed=(tier or "").lower() == "standard",
            message=f"{name}: {tier or 'not listed'} tier",
        )


@check(
    id="azure.monitor.activity_log_exported",
    title="The Activity Log is exported by a subscription diagnostic setting",
    severity="medium",
    remediation="Create a subscription diagnostic setting sending at least the "
    "Administrative and Security categories (or allLogs) to a Log Analytics workspace, "
    "storage account or event hub.",
)
def activity_log_exported(exports: ActivityLogExports) -> Iterator[Finding]:
    """Passes when one setting has a destination and keeps Administrative and Security."""
    good = [
        s.name
        for s in exports.settings
        if s.destinations
        and ("allLogs" in s.categories or all(c in s.categories for c in REQUIRED_CATEGORIES))
    ]
    yield Finding(
        resource=exports.subscription,
        passed=bool(good),
        message=f"exported by {', '.join(good)}"
        if good
        else "no diagnostic setting exports the Administrative and Security categories",
    )
