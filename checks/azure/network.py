"""Network checks: no admin ports open to the internet; NSG traffic is flow-logged."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.azure.models import FlowLogs, NetworkSecurityGroup, NetworkSecurityGroups, SecurityRule

ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
#: Sources that match traffic from anywhere on the internet.
INTERNET = frozenset({"*", "any", "internet", "0.0.0.0", "0.0.0.0/0", "::/0"})


def _covers(ranges: tuple[str, ...], port: int) -> bool:
    for text in ranges:
        low, _, high = text.strip().partition("-")
        if low == "*" or (low.isdigit() and int(low) <= port <= int(high or low)):
            return True
    return False


def _first_match(rules: tuple[SecurityRule, ...], port: int, protocol: str) -> SecurityRule | None:
    """The inbound rule that decides internet traffic to ``port`` (lowest priority number)."""
    for rule in sorted(rules, key=lambda r: r.priority):
        if (
            rule.direction.lower() == "inbound"
            and rule.protocol.lower() in ("*", protocol)
            and any(s.lower() in INTERNET for s in rule.sources)
            and _covers(rule.ports, port)
        ):
            return rule
    return None


def exposed_admin_ports(group: NetworkSecurityGroup) -> list[str]:
    """``"SSH (22/tcp) by rule x"`` for each admin port an Allow rule opens to the internet."""
    exposed = []
    for port, name in ADMIN_PORTS.items():
        for protocol in ("tcp", "udp"):
            rule = _first_match(group.rules, port, protocol)
            if rule is not None and rule.access.lower() == "allow":
                exposed.append(f"{name} ({port}/{protocol}) by rule {rule.name}")
    return exposed


@check(
    id="azure.network.nsg_admin_ports_restricted",
    title="Network security groups do not admit SSH or RDP from the internet",
    severity="high",
    remediation="Remove or narrow inbound Allow rules for ports 22 and 3389 whose source is "
    "*, Internet or 0.0.0.0/0; use Azure Bastion or just-in-time VM access instead.",
)
def nsg_admin_ports_restricted(nsgs: NetworkSecurityGroups) -> Iterator[Finding]:
    """Rules are evaluated as Azure does: the lowest priority number matching the traffic."""
    for group in nsgs.groups:
        exposed = exposed_admin_ports(group)
        yield Finding(
            resource=group.id,
            passed=not exposed,
            message="open to the internet: " + "; ".join(exposed)
            if exposed
            else "no admin port open to the internet",
        )


def _vnet_of(subnet: str) -> str:
    return subnet.lower().partition("/subnets/")[0]


@check(
    id="azure.network.nsg_flow_logs_enabled",
    title="Network security group traffic is flow-logged",
    severity="medium",
    remediation="Enable a Network Watcher flow log for the NSG, or a VNet flow log for the "
    "virtual network of its subnets (NSG flow logs are being retired in favour of VNet flow "
    "logs).",
)
def nsg_flow_logs_enabled(nsgs: NetworkSecurityGroups, logs: FlowLogs) -> Iterator[Finding]:
    """Passes when an enabled flow log targets the NSG, one of its subnets or their VNet."""
    targets = {log.target_id.lower() for log in logs.flow_logs if log.enabled}
    for group in nsgs.groups:
        covered = {group.id.lower()}
        covered |= {s.lower() for s in group.subnets} | {_vnet_of(s) for s in group.subnets}
        logged = bool(covered & targets)
        yield Finding(
            resource=group.id,
            passed=logged,
            message="flow-logged" if logged else "no enabled flow log covers it",
        )
