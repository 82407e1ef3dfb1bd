"""What to grant for the selected GitHub checks, read-only.

Notation: ``github:<organization|repository>:<GitHub App permission>``, always ``read``. A
GitHub App (recommended for an organisation) is given exactly these permissions; a
fine-grained token the same, with the organisation as resource owner and all repositories; a
classic token needs the broader scopes listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.providers import named
from collector.settings import Settings

PREFIX = "github:"
#: The classic-token scope that covers each App permission (read access, no narrower scope).
CLASSIC_SCOPES = {
    "organization:administration": ["read:org", "read:audit_log"],
    "organization:members": ["read:org"],
    "repository:metadata": ["repo"],
    "repository:administration": ["repo"],
    "repository:dependabot_alerts": ["security_events"],
    "repository:security_events": ["security_events"],
    "repository:actions": ["repo"],
}


def render(permissions: Iterable[str], settings: Settings | None = None) -> dict[str, Any]:
    """The provider hook (see ``collector.providers``)."""
    wanted = named(PREFIX, permissions)
    by_level: dict[str, dict[str, str]] = {"organization": {}, "repository": {}}
    for item in wanted:
        level, _, name = item.partition(":")
        by_level[level][name] = "read"
    return {
        "github_app": {
            "organization_permissions": by_level["organization"],
            "repository_permissions": by_level["repository"],
            "install": "on the organisation, for all repositories; set github.auth: app, "
            "github.app_id and github.private_key_file",
        },
        "fine_grained_token": "the same permissions, resource owner = the organisation, "
        "all repositories; created by an organisation owner (owner-only settings such as "
        "two_factor_requirement_enabled are hidden from others)",
        "classic_token_scopes": sorted({s for item in wanted for s in CLASSIC_SCOPES[item]}),
    }
