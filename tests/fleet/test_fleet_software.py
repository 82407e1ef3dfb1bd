"""fleet.software.denied_absent on a recorded Fleet server (software titles over three pages
of ``meta.has_next_results``) through the real httpx client."""

from __future__ import annotations

import pytest
import respx

from checks.fleet.software import FleetSoftware, denied_absent
from checks.testing import findings
from collector.collect import Target
from collector.fleet.accounts import resolve_accounts
from collector.http import MalformedResponse
from collector.registry import load_registry
from collector.snapshots import SnapshotCache
from tests.fleet.wire import ENVIRON, NOW, SERVER, SETTINGS, recording, serve_fleet, url

REGISTRY = load_registry(entry_point_packs=False)


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


def software(settings=SETTINGS) -> FleetSoftware:
    (account,) = resolve_accounts(settings, environ=ENVIRON, clock=lambda: NOW, sleep=[].append)
    assert account.make_scope is not None, account.error
    return SnapshotCache(REGISTRY.collectors, account.make_scope).get(
        FleetSoftware, Target("fleet", SERVER)
    )


def test_denied_titles_on_hosts_fail_and_are_named(api):
    """uTorrent is on hosts as an app and a deb package (a glob matches both, any case);
    TeamViewer is inventoried on no host any more; AnyDesk is nowhere."""
    routes = serve_fleet(api)
    snapshot = software()
    assert [t.id for t in snapshot.titles] == [22, 31, 40, 41, 55]  # the last page included
    assert [c.request.url.params["page"] for c in routes["software"].calls] == ["0", "1", "2"]
    said = {(f.resource, f.passed): f.message for f in findings(denied_absent, snapshot)}
    assert said == {
        (f"{SERVER}/denied/uTorrent*", False): "installed: uTorrent Web.app (apps) on 1 hosts, "
        "utorrent (deb_packages) on 1 hosts",
        (f"{SERVER}/denied/TeamViewer*", True): "not installed on any Fleet host",
        (f"{SERVER}/denied/AnyDesk*", True): "not installed on any Fleet host",
    }


def test_no_deny_list_judges_nothing(api):
    serve_fleet(api)
    unlisted = software(SETTINGS.model_copy(update={"denied_software": []}))
    assert unlisted.titles and findings(denied_absent, unlisted) == []


def test_title_without_host_count_is_malformed(api):
    page = recording("software_titles_page1")
    del page["software_titles"][1]["hosts_count"]
    api.get(url("/api/v1/fleet/software/titles"), params={"page": "1"}).respond(json=page)
    serve_fleet(api)
    with pytest.raises(MalformedResponse, match=r"title 41: no name or hosts_count"):
        software()
