"""A recorded Okta org (example.okta.com) served with respx: users in two Link-header pages,
factors, password / sign-on / authentication policies, their rules and app mappings, admin
assignees. recordings/SOURCES.md names the documentation page each recording follows."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import respx

from collector.registry import load_registry
from collector.settings import OktaSettings

ORG_URL = "https://example.okta.com"
ORG = "example.okta.com"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
RECORDINGS = Path(__file__).parent / "recordings"
REGISTRY = load_registry(entry_point_packs=False)
SETTINGS = OktaSettings(org_url=ORG_URL, token_env="OKTA_TEST_TOKEN")
ENVIRON = {"OKTA_TEST_TOKEN": "00example-api-token"}
USER_IDS = {name: f"00u{n}exampleUSER00{n}" for n, name in enumerate(
    ("ann", "bob", "carol", "dave", "erin", "frank"), start=1)}  # fmt: skip


def recording(name: str) -> Any:
    return json.loads((RECORDINGS / f"{name}.json").read_text())


def answer(name: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=recording(name), headers=headers)


def url(path: str) -> str:
    return f"{ORG_URL}{path}"


def link(path: str, rel: str = "next") -> str:
    return f'<{url(path)}>; rel="self", <{url(path)}>; rel="{rel}"'


def serve_org(
    router: respx.MockRouter,
    *,
    access_rules: str = "rules_dashboard_2fa",
    contractors_rules: str = "rules_contractors",
    default_rules: str = "rules_default_sign_on",
) -> dict:
    """Route every call the Okta collectors make; returns the routes tests look at."""
    after = "/api/v1/users?after=00u3exampleUSER003&limit=200"
    routes = {
        "users_page2": router.get(
            url("/api/v1/users"), params={"after": "00u3exampleUSER003"}
        ).mock(return_value=answer("users_page2", Link=f'<{url(after)}>; rel="self"')),
        "users_page1": router.get(url("/api/v1/users")).mock(
            return_value=answer(
                "users_page1",
                Link=f'<{url("/api/v1/users?limit=200")}>; rel="self", <{url(after)}>; rel="next"',
            )
        ),
    }
    for name in ("ann", "bob", "carol", "erin"):
        routes[f"factors_{name}"] = router.get(url(f"/api/v1/users/{USER_IDS[name]}/factors")).mock(
            return_value=answer(f"factors_{name}")
        )
    for kind, name in (
        ("PASSWORD", "password"),
        ("OKTA_SIGN_ON", "sign_on"),
        ("ACCESS_POLICY", "access"),
    ):
        router.get(url("/api/v1/policies"), params={"type": kind}).mock(
            return_value=answer(f"policies_{name}")
        )
    for policy, rules in (
        ("00p4contractorsEXAMPLE", contractors_rules),
        ("00p5defaultEXAMPLE", default_rules),
        ("rst1dashboardEXAMPLE", access_rules),
        ("rst2legacyEXAMPLE", "rules_legacy_1fa"),
        ("rst3unusedEXAMPLE", "rules_dashboard_1fa"),
    ):
        router.get(url(f"/api/v1/policies/{policy}/rules")).mock(return_value=answer(rules))
    mappings = "/api/v1/policies/rst2legacyEXAMPLE/mappings"
    router.get(url(mappings), params={"after": "rsm2example"}).mock(
        return_value=answer("mappings_legacy_page2")
    )
    routes["mappings_legacy"] = router.get(url(mappings)).mock(
        return_value=answer("mappings_legacy_page1", Link=link(f"{mappings}?after=rsm2example"))
    )
    for policy, listed in (("rst1dashboardEXAMPLE", "dashboard"), ("rst3unusedEXAMPLE", "none")):
        router.get(url(f"/api/v1/policies/{policy}/mappings")).mock(
            return_value=answer(f"mappings_{listed}")
        )
    assignees = url("/api/v1/iam/assignees/users")
    router.get(assignees, params={"after": "00u2exampleUSER002"}).mock(
        return_value=answer("assignees_page2")
    )
    routes["assignees"] = router.get(assignees).mock(return_value=answer("assignees_page1"))
    for name in ("ann", "bob", "frank"):
        router.get(url(f"/api/v1/users/{USER_IDS[name]}/roles")).mock(
            return_value=answer(f"roles_{name}")
        )
    return routes
