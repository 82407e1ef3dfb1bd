"""The dated OS support data (``os_support.yaml``): the default minimum OS versions."""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from collector.yamlfile import SAFE_LOADER

Tool = Literal["intune", "osquery"]


@cache
def _data() -> dict[str, Any]:
    text = resources.files("collector").joinpath("os_support.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=SAFE_LOADER)  # type: ignore[no-any-return]


def as_of() -> date:
    """The day the support data was last reviewed."""
    return _data()["as_of"]  # type: ignore[no-any-return]


def default_minimums(tool: Tool) -> dict[str, str]:
    """Lowest supported version per OS, keyed as ``tool`` names the OS."""
    data = _data()
    return {name: data["releases"][os]["minimum"] for os, name in data["names"][tool].items()}
