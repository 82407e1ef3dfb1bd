"""What the osquery checks need: the tables they read with ``osqueryi`` on this host.

Notation: ``osquery:<table>``. Only the tables of the host's platform are queried.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.settings import Settings

PREFIX = "osquery:"


def render(permissions: Iterable[str], settings: Settings | None = None) -> dict[str, Any]:
    """The provider hook (see ``collector.providers``)."""
    declared = set(permissions)
    unknown = sorted(p for p in declared if not p.startswith(PREFIX))
    if unknown:
        raise ValueError(f"unknown permission notation: {', '.join(unknown)}")
    binary = settings.osquery.osqueryi if settings else "osqueryi"
    return {
        "runs": f"{binary} --json '<SQL>' on the host annexa runs on",
        "tables": sorted(p.removeprefix(PREFIX) for p in declared),
        "privileges": "bitlocker_info needs an elevated (Administrator) shell on Windows; "
        "screenlock must run in the logged-in user's session on macOS; reading timed's plist "
        "under /private/var/db/timed may need root on macOS (unreadable: time sync fails, "
        "never passes); the others need no extra privileges",
        "install": "https://osquery.io/downloads (osqueryi ships with every package)",
    }
