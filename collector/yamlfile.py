"""Read a user-supplied YAML file, turning every failure into one UserError line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from collector.errors import UserError

_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser: ~10x faster


class _StrictLoader(_BASE_LOADER):  # type: ignore[misc,valid-type]
    """SafeLoader (libyaml's parser where installed) that refuses a key given twice in one
    mapping (YAML says keys are unique; PyYAML would silently keep the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *base" may be overridden
                continue
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first on line {seen[key]})",
                        key_node.start_mark,
                    )
                seen[key] = line
            except TypeError:  # an unhashable key: the base class reports it
                continue
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, *, label: str | None = None) -> Any:
    """Parse ``path`` safely. Errors name the file (``label``, default its name) and, for bad
    YAML, the line: ``soa.yaml line 3: invalid YAML: ...``. Duplicate keys and nesting too deep
    to read are errors too."""
    name = label or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError(f"{name}: not a UTF-8 text file") from None
    except OSError as exc:
        raise UserError(f"{name}: cannot read file: {exc.strerror or exc}") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise UserError(f"{name}{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise UserError(f"{name}: invalid YAML: nested too deeply") from None
