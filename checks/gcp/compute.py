"""Compute Engine checks: admin ports open to the internet, default network, OS Login."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.gcp.models import FirewallRule, GcpCompute, GcpNetworks

ADMIN_PORTS = (22, 3389)
WORLD = frozenset({"0.0.0.0/0", "::/0"})
_TCP = frozenset({"tcp", "6", "all"})


def _covers(ports: tuple[str, ...], port: int) -> bool:
    if not ports:  # no ports listed: every port of the protocol
        return True
    for entry in ports:
        low, _, high = entry.partition("-")
        if int(low) <= port <= int(high or low):
            return True
    return False


def open_admin_ports(rule: FirewallRule) -> list[int]:
    """Admin ports an enabled ingress rule allows from anywhere on the internet."""
    if rule.direction != "INGRESS" or rule.disabled or not WORLD & set(rule.source_ranges):
        return []
    return [
        port
        for port in ADMIN_PORTS
        if any(proto.lower() in _TCP and _covers(ports, port) for proto, ports in rule.allowed)
    ]


@check(
    id="gcp.compute.no_internet_admin_ports",
    title="No firewall rule allows SSH or RDP from the internet",
    severity="high",
    interval="6h",
    remediation="Restrict the rule's source ranges (e.g. to 35.235.240.0/20 for IAP TCP "
    "forwarding) or delete it.",
)
def no_internet_admin_ports(compute: GcpCompute) -> Iterator[Finding]:
    """Every firewall rule is judged; only enabled INGRESS rules from 0.0.0.0/0 or ::/0 to tcp
    22 or 3389 (named, in a range, or as all ports) fail."""
    for rule in compute.firewalls:
        ports = open_admin_ports(rule)
        yield Finding(
            resource=rule.resource,
            passed=not ports,
            message=f"port(s) {', '.join(map(str, ports))} open to the internet"
            if ports
            else "no admin port open to the internet",
        )


@check(
    id="gcp.compute.default_network_absent",
    title="Projects do not keep the auto-created default network",
    severity="medium",
    interval="24h",
    remediation="Move workloads to a custom-mode VPC, delete the default network, and enforce "
    "compute.skipDefaultNetworkCreation by organisation policy.",
)
def default_network_absent(snapshot: GcpNetworks) -> Iterator[Finding]:
    """One finding per project with at least one VPC network."""
    names: dict[str, set[str]] = {}
    for network in snapshot.networks:
        names.setdefault(network.project, set()).add(network.name)
    for project, networks in sorted(names.items()):
        present = "default" in networks
        yield Finding(
            resource=project,
            passed=not present,
            message="default network present" if present else "no default network",
        )


@check(
    id="gcp.compute.os_login_enforced",
    title="OS Login is enforced in project metadata",
    severity="medium",
    interval="24h",
    remediation="gcloud compute project-info add-metadata --metadata enable-oslogin=TRUE; "
    "enforce compute.requireOsLogin by organisation policy.",
)
def os_login_enforced(compute: GcpCompute) -> Iterator[Finding]:
    """Projects with the Compute Engine API enabled; the value is case-insensitive."""
    for project in compute.projects:
        on = (project.os_login or "").strip().lower() == "true"
        yield Finding(
            resource=project.resource,
            passed=on,
            message=f"enable-oslogin={project.os_login}" if project.os_login else "OS Login unset",
        )
