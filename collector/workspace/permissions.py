"""What to grant for the selected Google Workspace checks.

Notation: ``workspace:<OAuth scope>``, authorised for the service account's client id under
domain-wide delegation; the service account then acts as ``workspace.admin_email``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.providers import named
from collector.settings import Settings

PREFIX = "workspace:"


def render(permissions: Iterable[str], settings: Settings | None = None) -> dict[str, Any]:
    """The provider hook (see ``collector.providers``)."""
    admin = settings.workspace.admin_email if settings else None
    return {
        "oauth_scopes": named(PREFIX, permissions),
        "grant": "Admin console > Security > Access and data control > API controls > "
        "Domain-wide delegation > Add new: the service account's client id with these scopes "
        "(comma-separated)",
        "act_as": admin
        or "an administrator allowed to read users and reports (workspace.admin_email)",
        "enable_api": "Admin SDK API in the service account's Google Cloud project",
    }
