"""The recorded GitHub organisation (``acme``, :mod:`collector.github.recorded`, the same one
``annexa demo`` audits) served with respx through the real client; ``overrides`` swaps any
path's answer (an error, a rate limit first, a plan without a feature)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import httpx
import respx

from collector.github.recorded import API, ORG, recorded_org
from collector.recorded import Answer
from collector.registry import load_registry
from collector.settings import GithubSettings

__all__ = ["API", "ORG", "answer", "first_then", "serve_org"]

NOW = datetime(2024, 6, 1, tzinfo=UTC)
EPOCH = 1_717_200_000.0  # NOW
REGISTRY = load_registry(entry_point_packs=False)
SETTINGS = GithubSettings(organizations=[ORG], token_env="GITHUB_TEST_TOKEN", per_page=2)
ENVIRON = {"GITHUB_TEST_TOKEN": "github_pat_example0000"}


def answer(name: str) -> httpx.Response:
    return recorded_org().answer(name)


def serve_org(
    router: respx.MockRouter, overrides: Mapping[str, Answer] | None = None, base: str = API
) -> respx.Route:
    """Route every call the GitHub collectors make under ``base``; the route records them."""
    served = recorded_org(base, dict(overrides or {}))
    return router.route(url__startswith=base).mock(side_effect=served)


def first_then(name: str, then: str) -> Callable[[httpx.Request], httpx.Response]:
    """Answer ``name`` once, then ``then`` (a rate limit, then the data)."""
    served: list[str] = []

    def respond(request: httpx.Request) -> httpx.Response:
        served.append(name)
        return answer(name if len(served) == 1 else then)

    return respond
