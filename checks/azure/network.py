"""Network checks: no admin ports open to the internet; NSG traffic is flow-logged."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.azure.models import FlowLogs, NetworkSecurityGroup, NetworkSecurityGroups, SecurityRule
from checks.network import AddressSpace, InternetPrefix, address_space

ADMIN_PORTS = {22: "SSH", 3389: "RDP"}
#: Sources (service tags and wildcards) that match traffic from anywhere.
ANYWHERE = frozenset({"*", "any", "internet"})
EVERYTHING = AddressSpace([(0, 2**32 - 1)], [(0, 2**128 - 1)])


def _covers(ranges: tuple[str, ...], port: int) -> bool:
    for text in ranges:
        low, _, high = text.strip().partition("-")
        if low == "*" or (low.isdigit() and int(low) <= port <= int(high or low)):
            return True
    return False


def _sources(rule: SecurityRule) -> AddressSpace:
    if any(s.strip().lower() in ANYWHERE for s in rule.sources):
        return EVERYTHING
    return address_space(rule.sources)


def _admitting(
    rules: tuple[SecurityRule, ...], port: int, protocol: str
) -> tuple[AddressSpace, list[str]]:
    """The addresses whose inbound traffic to ``port`` an Allow rule admits, evaluated as Azure
    does (lowest priority number first: an address is decided by the first rule naming it),
    and the names of those Allow rules."""
    undecided, allowed, names = EVERYTHING, AddressSpace(), []
    for rule in sorted(rules, key=lambda r: r.priority):
        if not (
            rule.direction.lower() == "inbound"
            and rule.protocol.lower() in ("*", protocol)
            and _covers(rule.ports, port)
        ):
            continue
        matched = undecided & _sources(rule)
        if rule.access.lower() == "allow" and matched.public():
            allowed, names = allowed | matched, [*names, rule.name]
        undecided = undecided - matched
    return allowed, names


def exposed_admin_ports(
    group: NetworkSecurityGroup, prefix: InternetPrefix | None = None
) -> list[str]:
    """``"SSH (22/tcp) by rule x"`` for each admin port whose Allow rules admit more of the
    public internet than one network of ``prefix`` (split ranges add up)."""
    exposed = []
    for port, name in ADMIN_PORTS.items():
        for protocol in ("tcp", "udp"):
            allowed, names = _admitting(group.rules, port, protocol)
            if allowed.open_to_internet(prefix or InternetPrefix()):
                exposed.append(f"{name} ({port}/{protocol}) by rule {', '.join(names)}")
    return exposed


@check(
    id="azure.network.nsg_admin_ports_restricted",
    title="Network security groups do not admit SSH or RDP from the internet",
    severity="high",
    remediation="Remove or narrow inbound Allow rules for ports 22 and 3389 whose source is "
    "*, Internet, 0.0.0.0/0 or another wide public range; use Azure Bastion or just-in-time VM "
    "access instead.",
)
def nsg_admin_ports_restricted(nsgs: NetworkSecurityGroups) -> Iterator[Finding]:
    """Rules are evaluated as Azure does (the lowest priority number matching the traffic),
    address by address; judged by the public address space the Allow rules admit."""
    for group in nsgs.groups:
        exposed = exposed_admin_ports(group, nsgs.internet_prefix)
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
