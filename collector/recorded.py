"""Recorded API answers served to annexa's real HTTP client (an ``httpx.MockTransport``): the
demo's GitHub organisation and Okta org. The tests serve the same recordings.

A recording is a JSON file ``{"doc", "status", "headers"?, "body"}``; ``doc`` is the reference
page whose documented shape it follows. Routes map a URL path to a recording, or to
``{"param=value": recording, "": default}`` for pages and variants.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import httpx

#: A recording's name, or a function answering the request itself.
Answer = str | Callable[[httpx.Request], httpx.Response]


@cache
def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


class Recorded:
    """Answers requests under ``base`` from the recordings in ``directory``.

    ``recorded_base`` is the API address the recordings' ``Link`` headers name; they are
    moved to ``base``, so one recording serves github.com and a GHES server alike.
    """

    def __init__(
        self,
        directory: Path,
        routes: Mapping[str, Any],
        base: str,
        *,
        recorded_base: str | None = None,
    ) -> None:
        self.directory = directory
        self.routes = dict(routes)
        self.base = base.rstrip("/")
        self.recorded_base = (recorded_base or base).rstrip("/")

    def answer(self, name: str) -> httpx.Response:
        data = _load(self.directory / f"{name}.json")
        headers = {
            k: v.replace(self.recorded_base, self.base)
            for k, v in (data.get("headers") or {}).items()
        }
        return httpx.Response(data["status"], json=data["body"], headers=headers)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix(httpx.URL(self.base).path.rstrip("/"))
        found = self.routes.get(path)
        if isinstance(found, dict):
            query = request.url.params
            found = next(
                (
                    name
                    for key, name in found.items()
                    if key and query.get(key.split("=")[0]) == key.split("=", 1)[1]
                ),
                found.get(""),
            )
        if found is None:
            return httpx.Response(404, json={"message": "Not Found"})
        return found(request) if callable(found) else self.answer(found)

    def client(self) -> httpx.Client:
        """An httpx client whose every request is answered from the recordings."""
        return httpx.Client(transport=httpx.MockTransport(self))
