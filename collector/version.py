"""annexa's own version, as installed (sealed with each run and written into packages)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def annexa_version() -> str:
    """The installed distribution's version, ``0+unknown`` when run from a bare checkout."""
    try:
        return version("annexa")
    except PackageNotFoundError:
        return "0+unknown"
