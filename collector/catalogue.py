"""The ISO/IEC 27001:2022 Annex A catalogue: 93 control ids, short titles, themes, 2013 crosswalk.

The data lives in ``mappings/annex_a/controls.yaml`` (ids and short titles only, never ISO's
control text). :func:`load_catalogue` validates it and answers look-ups and 2013 -> 2022
translations.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from collector.errors import UserError
from collector.yamlfile import read_yaml

__all__ = ["Catalogue", "Control", "control_sort_key", "load_catalogue", "pydantic_error_line"]

ID_2022 = r"^A\.[5-8]\.\d{1,2}$"
ID_2013 = r"^A\.\d{1,2}\.\d{1,2}\.\d{1,2}$"
Theme = Literal["Organizational", "People", "Physical", "Technological"]


@dataclass(frozen=True)
class Control:
    """One Annex A control: id, short title, theme and its 2013 predecessors."""

    id: str
    title: str
    theme: str
    new_in_2022: bool
    iso2013: tuple[str, ...]


def control_sort_key(control_id: str) -> tuple[int, ...]:
    """Numeric sort key for ``A.5.10``-style ids (so A.5.2 sorts before A.5.10)."""
    return tuple(int(part) for part in control_id.removeprefix("A.").split("."))


class Catalogue:
    """The validated catalogue, in numeric control order."""

    def __init__(
        self, controls: Iterable[Control], iso2013_titles: dict[str, str] | None = None
    ) -> None:
        self.controls: tuple[Control, ...] = tuple(
            sorted(controls, key=lambda c: control_sort_key(c.id))
        )
        self.iso2013_titles: dict[str, str] = dict(iso2013_titles or {})
        self._by_id = {control.id: control for control in self.controls}
        successors: dict[str, list[str]] = {}
        for control in self.controls:
            for old in control.iso2013:
                successors.setdefault(old, []).append(control.id)
        self._successors = {old: tuple(new) for old, new in successors.items()}

    def __len__(self) -> int:
        return len(self.controls)

    def __iter__(self) -> Iterator[Control]:
        return iter(self.controls)

    def __contains__(self, control_id: object) -> bool:
        return control_id in self._by_id

    def get(self, control_id: str) -> Control | None:
        """The 2022 control with this id, or None."""
        return self._by_id.get(control_id)

    def themes(self) -> dict[str, int]:
        """Theme -> number of controls, in catalogue order."""
        return dict(Counter(control.theme for control in self.controls))

    def iso2013_ids(self) -> tuple[str, ...]:
        """Every 2013 control id the crosswalk covers, numerically sorted."""
        return tuple(sorted(self._successors, key=control_sort_key))

    def translate(self, control_id: str) -> tuple[str, ...]:
        """A 2022 id -> ``(itself,)``; a 2013 id -> its 2022 ids; anything else -> ``()``."""
        if control_id in self._by_id:
            return (control_id,)
        return self._successors.get(control_id, ())


class _ControlModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=ID_2022)
    title: str = Field(min_length=1)
    theme: Theme
    new_in_2022: bool
    iso2013: list[str] = Field(default_factory=list)


class _CatalogueFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    controls: list[_ControlModel] = Field(min_length=1)
    iso2013_titles: dict[str, str] = Field(default_factory=dict)


def pydantic_error_line(error: ValidationError) -> str:
    """The first validation error as ``where: what`` on one line."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "top level"
    return f"{where}: {first['msg']}"


def _default_path() -> Path:
    return Path(str(files("mappings.annex_a") / "controls.yaml"))


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Load and validate the catalogue (the built-in one, cached, when ``path`` is None)."""
    if path is None:
        return _load_default()
    return _load(Path(path))


@functools.cache
def _load_default() -> Catalogue:
    return _load(_default_path())


def _load(path: Path) -> Catalogue:
    name = path.name
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise UserError(f"{name}: expected a mapping with a 'controls' list")
    try:
        data = _CatalogueFile.model_validate(raw)
    except ValidationError as exc:
        raise UserError(f"{name}: {_catalogue_error(exc, raw)}") from None
    seen: set[str] = set()
    for number, item in enumerate(data.controls, start=1):
        if item.id in seen:
            raise UserError(f"{name}: controls entry {number}: duplicate control id {item.id!r}")
        seen.add(item.id)
        for old in item.iso2013:
            if not re.match(ID_2013, old):
                raise UserError(
                    f"{name}: control {item.id}: iso2013 id {old!r} is not a 2013 id (A.x.y.z)"
                )
    controls = (
        Control(item.id, item.title, item.theme, item.new_in_2022, tuple(item.iso2013))
        for item in data.controls
    )
    return Catalogue(tuple(controls), data.iso2013_titles)


def _catalogue_error(error: ValidationError, raw: dict) -> str:
    first = error.errors()[0]
    loc = list(first["loc"])
    if len(loc) >= 2 and loc[0] == "controls" and isinstance(loc[1], int):
        entries = raw.get("controls") or []
        entry = entries[loc[1]] if loc[1] < len(entries) else None
        label = f"controls entry {loc[1] + 1}"
        if isinstance(entry, dict) and entry.get("id"):
            label += f" ({entry['id']})"
        field = ".".join(str(part) for part in loc[2:]) or "entry"
        return f"{label}: {field}: {first['msg']}"
    return pydantic_error_line(error)
