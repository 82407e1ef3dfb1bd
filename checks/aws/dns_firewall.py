"""Route 53 Resolver DNS Firewall: every VPC's DNS queries pass a rule group that blocks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import Vpc, _AwsSnapshot


class FirewallAssociation(SnapshotPart):
    """One DNS Firewall rule group associated with a VPC, and how many of its rules block."""

    vpc_id: str
    rule_group_id: str
    name: str
    status: str  # COMPLETE, UPDATING, DELETING
    blocking_rules: int  # rules whose Action is BLOCK


class DnsFirewall(_AwsSnapshot):
    """The VPCs of one region and the DNS Firewall rule groups associated with them."""

    resource_noun: ClassVar[str] = "vpcs"

    region: str
    vpcs: tuple[Vpc, ...]
    associations: tuple[FirewallAssociation, ...]


@check(
    id="aws.route53resolver.dns_firewall_on_vpcs",
    title="Every VPC has a DNS Firewall rule group that blocks domains",
    severity="medium",
    interval="24h",
    remediation="Associate a Route 53 Resolver DNS Firewall rule group with BLOCK rules (e.g. "
    "over the AWS managed malware and botnet domain lists) with each VPC.",
)
def dns_firewall_on_vpcs(snapshot: DnsFirewall) -> Iterator[Finding]:
    """A VPC passes when an association in state COMPLETE has at least one BLOCK rule."""
    for vpc in snapshot.vpcs:
        mine = [a for a in snapshot.associations if a.vpc_id == vpc.vpc_id]
        blocking = [a.name for a in mine if a.status == "COMPLETE" and a.blocking_rules]
        if blocking:
            message = f"blocked by rule group {', '.join(blocking)}"
        elif mine:
            message = "; ".join(
                f"{a.name}: {a.status}, {a.blocking_rules} blocking rule(s)" for a in mine
            )
        else:
            message = "no DNS Firewall rule group"
        yield Finding(resource=vpc.arn, passed=bool(blocking), message=message)
