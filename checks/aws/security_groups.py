"""Security group checks: no admin ports open to the internet; default groups closed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot
from checks.network import InternetPrefix, address_space

#: SSH and RDP.
ADMIN_PORTS = (22, 3389)


class SgRule(SnapshotPart):
    """One permission of a group: protocol (``-1`` all), port range (None: all) and sources."""

    protocol: str
    from_port: int | None
    to_port: int | None
    sources: tuple[str, ...]  # CIDRs (v4 and v6), prefix-list ids, group ids

    def covers(self, port: int) -> bool:
        if self.protocol == "-1":
            return True
        if self.protocol not in ("tcp", "6", "udp", "17"):
            return False
        if self.from_port is None or self.to_port is None:
            return True
        return self.from_port <= port <= self.to_port


class SecurityGroup(SnapshotPart):
    group_id: str
    arn: str
    name: str
    vpc_id: str | None
    ingress: tuple[SgRule, ...]
    egress: tuple[SgRule, ...]


class SecurityGroups(_AwsSnapshot):
    """Every security group in one region with its rules."""

    resource_noun: ClassVar[str] = "security groups"

    region: str
    groups: tuple[SecurityGroup, ...]
    internet_prefix: InternetPrefix = InternetPrefix()  # the config's aws.internet_prefix


@check(
    id="aws.ec2.no_admin_ports_open_to_internet",
    title="No security group opens SSH or RDP to the internet",
    severity="high",
    interval="6h",
    remediation="Remove ingress rules from 0.0.0.0/0, ::/0 or other wide public ranges that "
    "cover port 22 or 3389; "
    "reach instances through Session Manager, a VPN or a bastion with a narrow source range.",
)
def no_admin_ports_open_to_internet(snapshot: SecurityGroups) -> Iterator[Finding]:
    """Judged by address space: a port is open when the public addresses of every source that
    reaches it, together, outnumber one network of ``internet_prefix`` (split ranges such as
    0.0.0.0/1 + 128.0.0.0/1 add up). Port ranges and protocol ``-1`` cover a port."""
    for group in snapshot.groups:
        exposed = []
        for port in ADMIN_PORTS:
            sources = sorted(
                {s for rule in group.ingress if rule.covers(port) for s in rule.sources}
            )
            public = [s for s in sources if address_space([s]).public()]
            if address_space(public).open_to_internet(snapshot.internet_prefix):
                exposed.append(f"{port} from {', '.join(public)}")
        yield Finding(
            resource=group.arn,
            passed=not exposed,
            message=f"{group.group_id} ({group.name}) opens " + "; ".join(exposed)
            if exposed
            else f"{group.group_id} ({group.name}) opens no admin port to the internet",
        )


@check(
    id="aws.ec2.default_security_group_closed",
    title="Default security groups allow no traffic",
    severity="medium",
    interval="24h",
    remediation="Delete every inbound and outbound rule of each VPC's default security group "
    "and give workloads purpose-made groups instead.",
)
def default_security_group_closed(snapshot: SecurityGroups) -> Iterator[Finding]:
    """Only the groups named ``default`` in a VPC are judged."""
    for group in snapshot.groups:
        if group.name != "default" or group.vpc_id is None:
            continue
        rules = len(group.ingress) + len(group.egress)
        yield Finding(
            resource=group.arn,
            passed=rules == 0,
            message=f"default group {group.group_id} of {group.vpc_id} has no rules"
            if rules == 0
            else f"default group {group.group_id} of {group.vpc_id} has "
            f"{len(group.ingress)} inbound and {len(group.egress)} outbound rule(s)",
        )
