"""What every GitHub collector shares: the permission names it declares, paging, and the
error for a feature the organisation's plan does not offer."""

from __future__ import annotations

from typing import Any

from collector.http import ApiError, ApiScope, LinkHeader
from collector.settings import GithubSettings

Scope = ApiScope[GithubSettings]
PAGING = LinkHeader()

#: Declared permissions, ``github:<organization|repository>:<GitHub App permission>`` (read).
ORG_ADMINISTRATION = "github:organization:administration"
MEMBERS = "github:organization:members"
METADATA = "github:repository:metadata"
ADMINISTRATION = "github:repository:administration"
DEPENDABOT_ALERTS = "github:repository:dependabot_alerts"
CODE_SCANNING_ALERTS = "github:repository:security_events"
ACTIONS = "github:repository:actions"


def requires(permission: str) -> str:
    """How a 403's cause names a declared permission: ``Members (organization): read``."""
    _, level, name = permission.split(":")
    return f"{name.replace('_', ' ').capitalize()} ({level}): read"


def listed(
    scope: Scope, path: str, permission: str, *, key: str | None = None, **params: str
) -> list[dict[str, Any]]:
    """Every item of a GitHub collection, ``per_page`` at a time, following ``Link``; ``key``
    names the list inside an object answer (``{"total_count": 2, "environments": [...]}``)."""
    query = {"per_page": str(scope.settings.per_page)} | params
    paging = PAGING if key is None else LinkHeader(items_key=key)
    return scope.api.list(path, paging=paging, params=query, requires=requires(permission))


class FeatureUnavailable(Exception):
    """The organisation's plan does not offer (or has not enabled) what a check reads."""


def unavailable(exc: ApiError, feature: str, org: str) -> FeatureUnavailable | None:
    """The plan-level refusal behind ``exc`` (404, or a 403 asking to enable or upgrade)."""
    text = exc.message.lower()
    plan = exc.status == 404 or (
        exc.status == 403 and any(w in text for w in ("must be enabled", "disabled", "upgrade"))
    )
    if not plan:
        return None
    return FeatureUnavailable(
        f"{feature} not available for GitHub organization {org}: not on its plan or not "
        f"enabled (HTTP {exc.status} on {exc.request}: {exc.message})"
    )
