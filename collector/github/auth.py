"""How annexa authenticates to GitHub: a GitHub App installation token, or a token from the
environment (fine-grained personal access token, or any token a CI job is given).

The App signs a short-lived JWT (RS256, ``iss`` = App id) and exchanges it at
``POST /app/installations/{id}/access_tokens`` for an installation token, reused until five
minutes before it expires. Secrets are never stored or logged.
"""

from __future__ import annotations

import email.utils
import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import httpx
import jwt

from collector.http import Auth, HttpClient

API_VERSION = "2022-11-28"
HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}


class GithubAuthError(Exception):
    """The configured GitHub credential cannot be used."""


def token_auth(token_env: str, environ: Mapping[str, str] = os.environ) -> Auth:
    """``Authorization: Bearer <token>`` from the environment variable the config names."""
    token = environ.get(token_env)
    if not token:
        raise GithubAuthError(f"environment variable {token_env} is not set")
    return lambda: HEADERS | {"Authorization": f"Bearer {token}"}


def app_jwt(app_id: str, private_key: str, now: float) -> str:
    """The JWT a GitHub App authenticates as itself with (60 s back-dated for clock drift,
    valid nine minutes; GitHub accepts at most ten)."""
    claims = {"iss": app_id, "iat": int(now) - 60, "exp": int(now) + 540}
    return jwt.encode(claims, private_key, algorithm="RS256")


class InstallationToken:
    """Installation access tokens for one organisation, exchanged and cached."""

    def __init__(
        self,
        app: HttpClient,
        org: str,
        installation_id: int | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = app
        self._org = org
        self._installation_id = installation_id
        self._clock = clock
        self._token: str | None = None
        self._expires = 0.0

    def __call__(self) -> str:
        now = self._clock()
        if self._token is None or now >= self._expires - 300:
            if self._installation_id is None:
                found = self._app.get(f"/orgs/{self._org}/installation")
                self._installation_id = int(found["id"])
            answer = self._app.post_form(
                f"/app/installations/{self._installation_id}/access_tokens", {}
            )
            token, expires = answer.get("token"), answer.get("expires_at")
            if not isinstance(token, str) or not token or not isinstance(expires, str):
                raise GithubAuthError("the access_tokens endpoint answered without a token")
            self._token = token
            self._expires = datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp()
        return self._token


def app_auth(
    client: Callable[[Auth], HttpClient],
    app_id: str,
    key_file: Path,
    org: str,
    installation_id: int | None,
    clock: Callable[[], float] = time.time,
) -> Auth:
    """Installation-token auth for ``org``; ``client(auth)`` builds an API client."""
    try:
        key = key_file.read_text()
    except OSError as exc:
        raise GithubAuthError(f"cannot read the App's private key {key_file}: {exc}") from None

    def as_app() -> Mapping[str, str]:
        return HEADERS | {"Authorization": f"Bearer {app_jwt(app_id, key, clock())}"}

    tokens = InstallationToken(client(as_app), org, installation_id, clock=clock)
    return lambda: HEADERS | {"Authorization": f"Bearer {tokens()}"}


def rate_limited(response: httpx.Response) -> bool:
    """GitHub's rate limits: a 403 or 429 with ``x-ratelimit-remaining: 0`` (primary) or with
    ``retry-after`` or a "secondary rate limit" message (secondary)."""
    if response.status_code not in (403, 429):
        return False
    if response.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in response.headers:
        return True
    return "secondary rate limit" in response.text.lower()


def rate_limit_wait(response: httpx.Response, attempt: int, now: float) -> float:
    """``retry-after`` seconds; else until ``x-ratelimit-reset`` (epoch seconds, measured from
    the answer's ``Date``); else a minute, as GitHub asks for secondary limits."""
    after = response.headers.get("retry-after")
    if after and after.isdigit():
        return float(after)
    reset = response.headers.get("x-ratelimit-reset")
    if response.headers.get("x-ratelimit-remaining") == "0" and reset and reset.isdigit():
        date = response.headers.get("date")
        server_now = _epoch(date) if date else None
        return float(reset) - (now if server_now is None else server_now)
    return 60.0


def _epoch(http_date: str) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(http_date).timestamp()
    except (TypeError, ValueError):
        return None
