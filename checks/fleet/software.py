"""Software on Fleet hosts: no title of the configured deny list is installed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.fleet.models import _FleetSnapshot
from checks.software import denied_findings


class FleetSoftwareTitle(SnapshotPart):
    id: int
    name: str
    source: str  # apps, programs, deb_packages, chrome_extensions...
    hosts: int  # hosts_count


class FleetSoftware(_FleetSnapshot):
    """Every software title Fleet inventories, with the configured deny list."""

    resource_noun: ClassVar[str] = "denied software titles"
    server: str
    denied: tuple[str, ...]  # name globs from fleet.denied_software
    titles: tuple[FleetSoftwareTitle, ...]


@check(
    id="fleet.software.denied_absent",
    title="No Fleet host has software from the deny list installed",
    severity="medium",
    interval="24h",
    remediation="Uninstall the software from the hosts Fleet lists for it (a Fleet script or "
    "your MDM) and block it; the list is fleet.denied_software.",
)
def denied_absent(software: FleetSoftware) -> Iterator[Finding]:
    """One finding per deny-list entry: which matching titles are on how many hosts. No deny
    list configured: nothing to judge."""
    yield from denied_findings(
        software.denied,
        ((t.name, f"{t.name} ({t.source})", t.hosts) for t in software.titles),
        resource=software.server,
        noun="hosts",
        nowhere="not installed on any Fleet host",
    )
