"""Read a user-supplied YAML file, turning every failure into one UserError line.

annexa's own YAML (the catalogue, the mapping, the example SoA in ``mappings/annex_a``) is
also shipped parsed, in ``parsed.json`` beside it (written by ``python -m collector.manifest``
with the SHA-256 of each file's text): a file whose text has that hash is read from there,
~20x faster than parsing it; any other text is parsed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from collector.errors import UserError

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser: ~10x faster
#: annexa's own YAML files, and their parsed form
SHIPPED = Path(__file__).resolve().parent.parent / "mappings" / "annex_a"
PARSED = "parsed.json"


class _StrictLoader(SAFE_LOADER):  # type: ignore[misc,valid-type]
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
    shipped = _shipped(path, text)
    if shipped is not None:
        return shipped["data"]
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise UserError(f"{name}{where}: invalid YAML: {problem}") from None
    except RecursionError:
        raise UserError(f"{name}: invalid YAML: nested too deeply") from None


def _shipped(path: Path, text: str) -> dict[str, Any] | None:
    """``{"data": ...}`` of a shipped file from ``parsed.json``, when made from ``text``."""
    if path.resolve().parent != SHIPPED:
        return None
    try:
        entry = json.loads((SHIPPED / PARSED).read_text(encoding="utf-8")).get(path.name)
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("sha256") != _sha256(text):
        return None
    return entry


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def generate_parsed() -> str:
    """The text of ``parsed.json``: each shipped YAML file's hash and parsed form (a file
    whose parsed form JSON cannot hold exactly, e.g. a date, is left out and parsed)."""
    entries = {}
    for path in sorted(SHIPPED.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_StrictLoader)
        try:
            if json.loads(json.dumps(data)) != data:
                continue
        except (TypeError, ValueError):
            continue
        entries[path.name] = {"sha256": _sha256(text), "data": data}
    return json.dumps(entries, indent=1, ensure_ascii=False) + "\n"
