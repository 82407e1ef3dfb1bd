"""Route 53 Resolver DNS Firewall collector: the region's VPCs, rule group associations and
the BLOCK rules of each associated group, every page."""

from __future__ import annotations

from checks.aws.dns_firewall import DnsFirewall, FirewallAssociation
from collector.aws.monitoring import region_vpcs
from collector.aws.paging import each, pages
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    DnsFirewall,
    permissions=[
        "ec2:DescribeVpcs",
        "route53resolver:ListFirewallRuleGroupAssociations",
        "route53resolver:ListFirewallRules",
    ],
    scope="region",
)
def dns_firewall(scope: AwsScope) -> DnsFirewall:
    """Rules are read once per associated rule group, however many VPCs share it."""
    resolver = scope.client("route53resolver")
    found = pages(
        resolver, "list_firewall_rule_group_associations", "FirewallRuleGroupAssociations"
    )
    groups = sorted({a["FirewallRuleGroupId"] for a in found})

    def blocking(group: str) -> int:
        rules = pages(resolver, "list_firewall_rules", "FirewallRules", FirewallRuleGroupId=group)
        return sum(r.get("Action") == "BLOCK" for r in rules)

    counts = dict(zip(groups, each(blocking, groups), strict=True))
    return DnsFirewall(
        region=scope.region,
        vpcs=region_vpcs(scope),
        associations=tuple(
            FirewallAssociation(
                vpc_id=a["VpcId"],
                rule_group_id=a["FirewallRuleGroupId"],
                name=a.get("Name") or a["FirewallRuleGroupId"],
                status=a.get("Status", ""),
                blocking_rules=counts[a["FirewallRuleGroupId"]],
            )
            for a in found
        ),
    )
