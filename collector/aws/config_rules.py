"""AWS Config rules collector: rules (for their ARNs) and their compliance, every page."""

from __future__ import annotations

from checks.aws.config_rules import ConfigRuleCompliance, RuleCompliance
from collector.aws.paging import pages
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    ConfigRuleCompliance,
    permissions=["config:DescribeConfigRules", "config:DescribeComplianceByConfigRule"],
    scope="region",
)
def config_rule_compliance(scope: AwsScope) -> ConfigRuleCompliance:
    """A rule missing from the compliance answer has not been evaluated: INSUFFICIENT_DATA."""
    client = scope.client("config")
    rules = {
        r["ConfigRuleName"]: r["ConfigRuleArn"]
        for r in pages(client, "describe_config_rules", "ConfigRules")
    }
    compliance = {
        c["ConfigRuleName"]: c.get("Compliance") or {}
        for c in pages(client, "describe_compliance_by_config_rule", "ComplianceByConfigRules")
    }
    items = []
    for name, arn in sorted(rules.items()):
        found = compliance.get(name, {})
        capped = found.get("ComplianceContributorCount") or {}
        items.append(
            RuleCompliance(
                name=name,
                arn=arn,
                compliance=found.get("ComplianceType", "INSUFFICIENT_DATA"),
                non_compliant_resources=capped.get("CappedCount"),
            )
        )
    return ConfigRuleCompliance(region=scope.region, items=tuple(items))
