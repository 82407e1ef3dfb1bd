"""Fleet's software inventory (``GET /api/v1/fleet/software/titles``, every page)."""

from __future__ import annotations

from checks.fleet.software import FleetSoftware, FleetSoftwareTitle
from collector.collect import collects
from collector.fleet.hosts import OBSERVER, Scope
from collector.http import MalformedResponse, PageNumber

TITLES = "/api/v1/fleet/software/titles"


@collects(FleetSoftware, permissions=OBSERVER)
def software(scope: Scope) -> FleetSoftware:
    """Titles with their host counts; a title without ``hosts_count`` is malformed."""
    paging = PageNumber(items_key="software_titles", per_page=scope.settings.per_page)
    found = scope.api.list(TITLES, paging=paging, requires="observer role")
    titles = []
    for item in found:
        hosts = item.get("hosts_count")
        if not isinstance(hosts, int) or not item.get("name"):
            raise MalformedResponse(
                f"GET {TITLES}", f"title {item.get('id')}: no name or hosts_count"
            )
        titles.append(
            FleetSoftwareTitle(
                id=item["id"], name=item["name"], source=item.get("source") or "", hosts=hosts
            )
        )
    return FleetSoftware(
        server=scope.target.account,
        denied=tuple(scope.settings.denied_software),
        titles=tuple(titles),
    )
