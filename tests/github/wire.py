"""A recorded GitHub organisation (``acme``) served with respx through the real client.

Each recording is ``{"doc", "status", "headers"?, "body"}``: ``doc`` is the REST reference
page whose documented shape it follows. Members, repositories and Dependabot alerts come in
two ``Link``-header pages (``per_page=2``); ``overrides`` swaps any path's answer (an error, a
rate limit first, a plan without a feature).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import respx

from collector.registry import load_registry
from collector.settings import GithubSettings

API = "https://api.github.com"
ORG = "acme"
NOW = datetime(2024, 6, 1, tzinfo=UTC)
EPOCH = 1_717_200_000.0  # NOW
RECORDINGS = Path(__file__).parent / "recordings"
REGISTRY = load_registry(entry_point_packs=False)
SETTINGS = GithubSettings(organizations=[ORG], token_env="GITHUB_TEST_TOKEN", per_page=2)
ENVIRON = {"GITHUB_TEST_TOKEN": "github_pat_example0000"}

Answer = str | Callable[[httpx.Request], httpx.Response]

#: path (after the API base) -> recording, or {query param: value -> recording} for pages
ROUTES: dict[str, Any] = {
    "/orgs/acme": "org",
    "/orgs/acme/members": {"role=admin": "members_admins", "page=2": "members_page2",
                           "": "members_page1"},
    "/organizations/9919/members": {"page=2": "members_page2"},
    "/orgs/acme/repos": "repos_page1",
    "/organizations/9919/repos": {"page=2": "repos_page2"},
    "/repos/acme/api/branches/main/protection": "protection_not_protected",
    "/repos/acme/web/branches/main/protection": "protection_web",
    "/repos/acme/infra/branches/main/protection": "protection_not_protected",
    "/repos/acme/api/rules/branches/main": "rules_api",
    "/repos/acme/web/rules/branches/main": "rules_none",
    "/repos/acme/infra/rules/branches/main": "rules_infra",
    "/repos/acme/api/rulesets/42": "ruleset_42",
    "/orgs/acme/rulesets/7": "ruleset_org_7",
    "/repos/acme/api/keys": "keys_api",
    "/repos/acme/web/keys": "keys_web",
    "/repos/acme/infra/keys": "keys_none",
    "/repos/acme/api/collaborators": "collaborators_api",
    "/repos/acme/web/collaborators": "collaborators_web",
    "/repos/acme/infra/collaborators": "collaborators_none",
    "/orgs/acme/dependabot/alerts": "dependabot_page1",
    "/organizations/9919/dependabot/alerts": {"after=Y3Vyc29yOjI=": "dependabot_page2"},
    "/orgs/acme/code-scanning/alerts": "code_scanning",
    "/orgs/acme/audit-log": "audit_log",
}  # fmt: skip


def recording(name: str) -> dict[str, Any]:
    return json.loads((RECORDINGS / f"{name}.json").read_text())  # type: ignore[no-any-return]


def answer(name: str, base: str = API) -> httpx.Response:
    """The recorded answer; its ``Link`` URLs moved to ``base`` (a GHES server)."""
    data = recording(name)
    headers = {k: v.replace(API, base) for k, v in (data.get("headers") or {}).items()}
    return httpx.Response(data["status"], json=data["body"], headers=headers)


def serve_org(
    router: respx.MockRouter, overrides: Mapping[str, Answer] | None = None, base: str = API
) -> respx.Route:
    """Route every call the GitHub collectors make under ``base``; the route records them."""
    chosen = dict(ROUTES) | dict(overrides or {})

    def respond(request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(httpx.URL(base).path.rstrip("/"))
        found = chosen.get(path)
        if isinstance(found, dict):
            query = request.url.params
            found = next(
                (
                    n
                    for k, n in found.items()
                    if k and query.get(k.split("=")[0]) == k.split("=", 1)[1]
                ),
                found.get(""),
            )
        if found is None:
            return httpx.Response(404, json={"message": f"no recording for {path}"})
        return found(request) if callable(found) else answer(found, base)

    return router.route(url__startswith=base).mock(side_effect=respond)


def first_then(name: str, then: str) -> Callable[[httpx.Request], httpx.Response]:
    """Answer ``name`` once, then ``then`` (a rate limit, then the data)."""
    served: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        served.append(name)
        return answer(name if len(served) == 1 else then)

    return respond
