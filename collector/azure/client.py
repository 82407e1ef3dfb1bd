"""ARM and Microsoft Graph over the shared HTTP client (:mod:`collector.http`).

Every call pins its ``api-version`` (ARM) or uses Graph v1.0. ``list`` follows ``nextLink``
(ARM) and ``@odata.nextLink`` (Graph); retries, timeouts and typed errors are the shared
client's.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from collector.azure.errors import AzureApiError
from collector.http import HttpClient, NextLinkField, RateKey, RetryObserver, bearer

if TYPE_CHECKING:
    import httpx
    from azure.core.credentials import TokenCredential

ARM_URL = "https://management.azure.com"
GRAPH_URL = "https://graph.microsoft.com/v1.0"
ARM_SCOPE = "https://management.azure.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
PAGING = NextLinkField(items_key="value", fields=("@odata.nextLink", "nextLink"))
_ARM_ACTION = re.compile(r"perform action '([^']+)'")
_GRAPH_SCOPES = re.compile(r"following scopes?:\s*([A-Za-z]+(?:\.[A-Za-z]+)+)")  # Intune


def permission_in(message: str) -> str | None:
    """The permission an ARM or Intune 403 message names, if it names one."""
    named = _ARM_ACTION.search(message) or _GRAPH_SCOPES.search(message)
    return named.group(1).strip() if named else None


class ApiClient:
    """GET JSON from one API (ARM or Graph) with one credential.

    ``requires`` on a call names the permission it needs, so a 403 that does not say which
    permission is missing still names one.
    """

    def __init__(
        self,
        credential: TokenCredential,
        *,
        base_url: str,
        scope: str,
        timeout: float = 30.0,
        max_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        http: httpx.Client | None = None,
        on_retryable: RetryObserver | None = None,
        rate_key: RateKey | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = HttpClient(
            base_url=base_url,
            auth=bearer(lambda: credential.get_token(scope).token),
            timeout=timeout,
            max_attempts=max_attempts,
            sleep=sleep,
            error_type=AzureApiError,
            permission_hint=permission_in,
            http=http,
            on_retryable=on_retryable,
            rate_key=rate_key,
        )

    def get(
        self,
        path: str,
        *,
        api_version: str | None = None,
        params: Mapping[str, str] | None = None,
        requires: str | None = None,
    ) -> dict[str, Any]:
        """One JSON object from ``path`` (relative to the base URL, or an absolute URL)."""
        return self._client.get(path, params=_query(params, api_version), requires=requires)

    def post(
        self,
        path: str,
        *,
        api_version: str | None = None,
        requires: str | None = None,
    ) -> dict[str, Any]:
        """POST without a body to a read action (Policy Insights' ``summarize``)."""
        return self._client.post_form(path, {}, params=_query(None, api_version), requires=requires)

    def list(
        self,
        path: str,
        *,
        api_version: str | None = None,
        params: Mapping[str, str] | None = None,
        requires: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every item of a collection, following next links until the last page."""
        return self._client.list(
            path, paging=PAGING, params=_query(params, api_version), requires=requires
        )


def _query(params: Mapping[str, str] | None, api_version: str | None) -> dict[str, str]:
    query = dict(params or {})
    if api_version:
        query["api-version"] = api_version
    return query
