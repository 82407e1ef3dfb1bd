"""What to grant for the selected Okta checks.

Notation: ``okta:<OAuth scope>``. With ``auth: private_key_jwt`` grant these scopes to the
service app (Okta API Scopes tab) and assign it the Read-Only Administrator role; with an API
token, create it while signed in as a Read-Only Administrator (a token has its creator's
rights, and no scopes).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.providers import named
from collector.settings import Settings

PREFIX = "okta:"


def render(permissions: Iterable[str], settings: Settings | None = None) -> dict[str, Any]:
    """The provider hook (see ``collector.providers``)."""
    return {
        "oauth_scopes": named(PREFIX, permissions),
        "admin_role": "Read-Only Administrator",
        "service_app": "Applications > Create App Integration > API Services; Client "
        "authentication: Public key / Private key (annexa signs with okta.private_key_file); "
        "grant the scopes on the Okta API Scopes tab and assign the admin role",
        "api_token": "Security > API > Tokens, created by a Read-Only Administrator; put it in "
        "the environment variable okta.token_env names",
    }
