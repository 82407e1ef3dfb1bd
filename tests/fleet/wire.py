"""A recorded Fleet server (fleet.example.com) served with respx: hosts in ``page``/``per_page``
pages of two, each host's details, global policies, the hosts passing / failing each policy,
vulnerabilities and software titles in three pages. Shapes follow Fleet's REST API reference
(fleetdm.com/docs/rest-api/rest-api): "List hosts" (no ``meta``, no
``disk_encryption_enabled``), "Get host" (``{"host": {...}}`` with ``disk_encryption_enabled``,
null where Fleet has no answer), "List policies", "List vulnerabilities", "Me"."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import respx

from collector.settings import FleetPolicyNames, FleetSettings

BASE = "https://fleet.example.com"
SERVER = "fleet.example.com"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
RECORDINGS = Path(__file__).parent / "recordings"
ENVIRON = {"FLEET_TEST_TOKEN": "example-fleet-api-token"}
SETTINGS = FleetSettings(
    base_url=BASE,
    token_env="FLEET_TEST_TOKEN",
    per_page=2,
    denied_software=["uTorrent*", "TeamViewer*", "AnyDesk*"],
    policies=FleetPolicyNames(
        screen_lock="Screen lock enabled",
        firewall=2,  # by id
        antimalware="Antivirus running",
        os_updates="macOS up to date",
        time_sync=6,
        local_admins="Local admins allow-listed",
    ),
)


def recording(name: str) -> Any:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def answer(name: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=recording(name), headers=headers)


def url(path: str) -> str:
    return f"{BASE}{path}"


def hosts_answer(request: httpx.Request) -> httpx.Response:
    """A recorded page of all hosts, or the recorded hosts passing / failing one policy."""
    query = request.url.params
    page, per_page = int(query["page"]), int(query["per_page"])
    if "policy_id" not in query:
        return answer(f"hosts_page{page}")
    every = {h["id"]: h for p in range(2) for h in recording(f"hosts_page{p}")["hosts"]}
    ids = recording("policy_results")[f"{query['policy_id']}/{query['policy_response']}"]
    hosts = [every[i] for i in ids][page * per_page : (page + 1) * per_page]
    return httpx.Response(200, json={"hosts": hosts})


def serve_fleet(router: respx.MockRouter) -> dict[str, respx.Route]:
    for host in range(1, 5):
        router.get(url(f"/api/v1/fleet/hosts/{host}")).mock(return_value=answer(f"host_{host}"))
    return {
        "me": router.get(url("/api/v1/fleet/me")).mock(return_value=answer("me")),
        "policies": router.get(url("/api/v1/fleet/global/policies")).mock(
            return_value=answer("global_policies")
        ),
        "hosts": router.get(url("/api/v1/fleet/hosts")).mock(side_effect=hosts_answer),
        "vulnerabilities": router.get(url("/api/v1/fleet/vulnerabilities")).mock(
            side_effect=lambda r: answer(f"vulnerabilities_page{r.url.params['page']}")
        ),
        "software": router.get(url("/api/v1/fleet/software/titles")).mock(
            side_effect=lambda r: answer(f"software_titles_page{r.url.params['page']}")
        ),
    }
