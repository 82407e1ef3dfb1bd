"""The identity checks call no API of their own: they read what other providers collect."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.settings import Settings


def render(permissions: Iterable[str], settings: Settings | None = None) -> dict[str, Any]:
    """The provider hook (see ``collector.providers``)."""
    if set(permissions):
        raise ValueError(f"unknown permission notation: {', '.join(sorted(permissions))}")
    return {
        "permissions": [],
        "reads": "the snapshots of every configured provider: grant what 'annexa permissions "
        "aws|github|okta|workspace|entra' prints (each includes what the identity checks need)",
    }
