"""A delegated service-account token for the Admin SDK, fetched over httpx.

google-auth signs the JWT assertion and parses the token answer; its HTTP goes through
:class:`HttpxRequest`, so the one httpx stack (timeouts, test routes) carries every call. The
token is fetched once and refreshed only when it expires during a long run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import google.auth.exceptions
import google.auth.transport
import httpx
from google.oauth2 import service_account

from collector.workspace.directory import USER_READONLY


class _Response(google.auth.transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class HttpxRequest(google.auth.transport.Request):
    """google-auth's transport interface over an ``httpx.Client``."""

    def __init__(self, http: httpx.Client) -> None:
        self._http = http

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> google.auth.transport.Response:
        try:
            response = self._http.request(
                method, url, content=body, headers=headers, timeout=timeout or 30.0
            )
        except httpx.HTTPError as exc:
            raise google.auth.exceptions.TransportError(f"{method} {url}: {exc}") from exc
        return _Response(response)


def delegated_credentials(
    key_file: Path, admin_email: str, scope: str = USER_READONLY
) -> service_account.Credentials:
    """The key file's service account acting as ``admin_email`` with one read-only scope."""
    return service_account.Credentials.from_service_account_file(
        str(key_file), scopes=[scope], subject=admin_email
    )


def token_source(
    credentials: google.auth.credentials.Credentials, http: httpx.Client
) -> Callable[[], str]:
    """A callable returning a valid access token, refreshing it only when needed."""
    request = HttpxRequest(http)

    def token() -> str:
        if not credentials.valid:
            credentials.refresh(request)
        return str(credentials.token)

    return token
