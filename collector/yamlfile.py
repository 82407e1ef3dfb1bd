"""Read a user-supplied YAML file, turning every failure into one UserError line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from collector.errors import UserError


def read_yaml(path: Path, *, label: str | None = None) -> Any:
    """Parse ``path`` safely. Errors name the file (``label``, default its name) and, for bad
    YAML, the line: ``soa.yaml line 3: invalid YAML: ...``."""
    name = label or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{name}: not a UTF-8 text file") from None
    except OSError as exc:
        raise UserError(f"{name}: cannot read file: {exc.strerror or exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise UserError(f"{name}{where}: invalid YAML: {problem}") from None
