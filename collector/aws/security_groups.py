"""Security group collector: one DescribeSecurityGroups sweep per region."""

from __future__ import annotations

from typing import Any

from checks.aws.security_groups import SecurityGroup, SecurityGroups, SgRule
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(SecurityGroups, permissions=["ec2:DescribeSecurityGroups"], scope="region")
def security_groups(scope: AwsScope) -> SecurityGroups:
    """Every group in the region with its inbound and outbound permissions."""
    groups = [
        SecurityGroup(
            group_id=g["GroupId"],
            arn=scope.arn("ec2", f"security-group/{g['GroupId']}", region=scope.region),
            name=g["GroupName"],
            vpc_id=g.get("VpcId"),
            ingress=tuple(_rule(p) for p in g.get("IpPermissions", [])),
            egress=tuple(_rule(p) for p in g.get("IpPermissionsEgress", [])),
        )
        for page in scope.client("ec2").get_paginator("describe_security_groups").paginate()
        for g in page.get("SecurityGroups", [])
    ]
    return SecurityGroups(
        region=scope.region,
        groups=tuple(groups),
        internet_prefix=scope.settings.internet_prefix,
    )


def _rule(permission: dict[str, Any]) -> SgRule:
    sources = (
        [r["CidrIp"] for r in permission.get("IpRanges", [])]
        + [r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])]
        + [r["PrefixListId"] for r in permission.get("PrefixListIds", [])]
        + [r["GroupId"] for r in permission.get("UserIdGroupPairs", []) if "GroupId" in r]
    )
    return SgRule(
        protocol=str(permission["IpProtocol"]),
        from_port=permission.get("FromPort"),
        to_port=permission.get("ToPort"),
        sources=tuple(sources),
    )
