"""Fleet's vulnerabilities (``GET /api/v1/fleet/vulnerabilities``, every page)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from checks.deadlines import OpenFinding
from checks.fleet.vulnerabilities import CRITICAL_CVSS, HIGH_CVSS, FleetVulnerabilities
from collector.collect import collects
from collector.fleet.hosts import OBSERVER, Scope
from collector.http import MalformedResponse, PageNumber

if TYPE_CHECKING:  # the registry never loads httpx
    import httpx

VULNERABILITIES = "/api/v1/fleet/vulnerabilities"


@dataclass
class _KeepCountsTime:
    """Fleet's page-number paging that also keeps the first page's ``counts_updated_at``."""

    pages: PageNumber
    first_body: dict[str, Any] = field(default_factory=dict)

    def first(self, params: dict[str, str]) -> dict[str, str]:
        return self.pages.first(params)

    def items(self, body: Any, request: str) -> list[dict[str, Any]]:
        if not self.first_body and isinstance(body, dict):
            self.first_body = body
        return self.pages.items(body, request)

    def next(
        self, response: httpx.Response, body: Any, params: dict[str, str]
    ) -> tuple[str | None, dict[str, str]] | None:
        return self.pages.next(response, body, params)


def _severity(item: dict[str, Any], request: str) -> str | None:
    """critical, high, or None below high. Fleet Free sends no ``cvss_score``: an error."""
    if "cvss_score" not in item:
        raise MalformedResponse(request, "no cvss_score (Fleet Premium rates vulnerabilities)")
    score = item["cvss_score"]
    if score is None:
        return None  # not rated yet (NVD has no score): not judged, see docs/blind-spots.md
    return "critical" if score >= CRITICAL_CVSS else "high" if score >= HIGH_CVSS else None


@collects(FleetVulnerabilities, permissions=OBSERVER)
def vulnerabilities(scope: Scope) -> FleetVulnerabilities:
    """CVEs on no host any more (``hosts_count`` 0) are fixed and left out."""
    paging = _KeepCountsTime(
        PageNumber(items_key="vulnerabilities", per_page=scope.settings.per_page)
    )
    found = scope.api.list(VULNERABILITIES, paging=paging, requires="observer role")
    request = f"GET {VULNERABILITIES}"
    items = []
    for item in found:
        severity = _severity(item, request)
        hosts = item.get("hosts_count")
        if not isinstance(hosts, int):
            raise MalformedResponse(request, f"{item.get('cve')}: no hosts_count")
        if severity is None or hosts == 0:
            continue
        items.append(
            OpenFinding(
                resource=f"{scope.target.account}/vulnerabilities/{item['cve']}",
                severity=severity,
                opened_at=item["created_at"],
                summary=item["cve"],
                affected=f"{hosts} host{'s' if hosts != 1 else ''}",
            )
        )
    return FleetVulnerabilities(
        server=scope.target.account,
        collected_at=scope.now(),
        counts_updated_at=paging.first_body.get("counts_updated_at"),
        deadline_days=scope.settings.vulnerability_deadline_days,
        items=tuple(items),
    )
