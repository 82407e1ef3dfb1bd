"""AWS Config rules: the baseline the organisation defined as rules is met."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class RuleCompliance(SnapshotPart):
    """One Config rule and its compliance (COMPLIANT, NON_COMPLIANT, INSUFFICIENT_DATA, ...)."""

    name: str
    arn: str
    compliance: str
    non_compliant_resources: int | None = None  # the capped count AWS reports, when known


class ConfigRuleCompliance(_AwsSnapshot):
    """Every AWS Config rule of one region with its compliance."""

    resource_noun: ClassVar[str] = "Config rules"

    region: str
    items: tuple[RuleCompliance, ...]


@check(
    id="aws.config.rules_compliant",
    title="AWS Config rules report no non-compliant resources",
    severity="medium",
    interval="12h",
    remediation="Fix the resources each NON_COMPLIANT rule names (aws configservice "
    "get-compliance-details-by-config-rule), or change the rule if the baseline changed.",
)
def rules_compliant(snapshot: ConfigRuleCompliance) -> Iterator[Finding]:
    """One finding per rule; a rule without an evaluation yet is not a pass."""
    for rule in snapshot.items:
        if rule.compliance == "NOT_APPLICABLE":
            continue
        count = (
            f" ({rule.non_compliant_resources} resources)"
            if rule.non_compliant_resources is not None
            else ""
        )
        yield Finding(
            resource=rule.arn,
            passed=rule.compliance == "COMPLIANT",
            message=f"rule {rule.name} is {rule.compliance}{count}",
        )
