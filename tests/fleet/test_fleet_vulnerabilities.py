"""Fleet vulnerabilities through the real httpx client against recorded "List vulnerabilities"
pages (see recordings/SOURCES.md): deadlines by CVSS band, paging, unrated and fixed CVEs,
Fleet Free's missing scores, stale counts and a denied call."""

from __future__ import annotations

import httpx
import pytest
import respx

from checks.fleet.vulnerabilities import FleetVulnerabilities, within_deadline
from checks.testing import findings, verdicts
from collector.causes import describe_error
from collector.collect import Target
from collector.http import ApiError, MalformedResponse
from tests.fleet.test_fleet_checks import fleet_cache
from tests.fleet.wire import SERVER, answer, recording, serve_fleet, url

VULNERABILITIES = url("/api/v1/fleet/vulnerabilities")


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        serve_fleet(router)  # /me, answered when the account is resolved
        yield router


def collect() -> FleetVulnerabilities:
    return fleet_cache().get(FleetVulnerabilities, Target("fleet", SERVER))


def cve(name: str) -> str:
    return f"{SERVER}/vulnerabilities/{name}"


def test_cves_past_their_band_deadline_fail_across_pages(api):
    route = serve_fleet(api)["vulnerabilities"]  # the three recorded pages
    snapshot = collect()
    assert [c.request.url.params["page"] for c in route.calls] == ["0", "1", "2"]
    assert verdicts(within_deadline, snapshot) == {
        (cve("CVE-2024-6387"), False),  # high (8.1), 60 days > 30
        (cve("CVE-2024-3094"), True),  # critical, 7 days
        (cve("CVE-2023-4863"), False),  # high, 92 days
    }  # medium, unrated and fixed (0 hosts) CVEs are not judged
    messages = {f.resource: f.message for f in findings(within_deadline, snapshot)}
    assert messages[cve("CVE-2024-6387")].startswith("high CVE-2024-6387 on 3 hosts, open 60")


def test_nothing_open_passes_only_with_fresh_counts(api):
    empty = recording("vulnerabilities_page2") | {"vulnerabilities": []}
    api.get(VULNERABILITIES).mock(return_value=httpx.Response(200, json=empty))
    assert verdicts(within_deadline, collect()) == {(SERVER, True)}


def test_counts_never_updated_is_a_failure_not_a_pass(api):
    never = recording("vulnerabilities_page2") | {"vulnerabilities": [], "counts_updated_at": None}
    api.get(VULNERABILITIES).mock(return_value=httpx.Response(200, json=never))
    (finding,) = findings(within_deadline, collect())
    assert not finding.passed and "never" in finding.message


def test_fleet_free_without_scores_is_an_error(api):
    api.get(VULNERABILITIES).mock(return_value=answer("vulnerabilities_free"))
    with pytest.raises(MalformedResponse, match="Fleet Premium"):
        collect()


def test_forbidden_names_the_role(api):
    api.get(VULNERABILITIES).mock(return_value=answer("error_forbidden", 403))
    with pytest.raises(ApiError) as denied:
        collect()
    assert "observer role" in describe_error(denied.value)
