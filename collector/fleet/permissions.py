"""What to grant for the selected Fleet checks.

Notation: ``fleet:<global role>``. The Observer role reads hosts and policies; give annexa an
API-only user with it (``fleetctl user create --api-only --global-role observer``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.providers import named
from collector.settings import Settings

PREFIX = "fleet:"


def render(permissions: Iterable[str], settings: Settings | None = None) -> dict[str, Any]:
    """The provider hook (see ``collector.providers``)."""
    env = settings.fleet.token_env if settings else "FLEET_API_TOKEN"
    return {
        "global_roles": named(PREFIX, permissions),
        "create": "fleetctl user create --name annexa --email annexa@<your domain> "
        "--api-only --global-role observer",
        "token": f"the API-only user's token, in the environment variable {env}",
    }
