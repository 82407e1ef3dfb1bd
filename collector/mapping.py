"""Check -> Annex A control mapping, each pair with a one-line rationale.

The built-in mapping is ``mappings/annex_a/checks.yaml``; an organisation layers its own YAML
files of the same shape on top::

    aws.s3.public_access_blocked:
      A.8.3: public buckets bypass information access restriction   # add or replace a pair
      A.8.12: null                                                  # remove a pair
    aws.iam.root_mfa_enabled: null                                  # remove all pairs of a check

Every file is validated at load: unknown check ids, unknown or 2013 control ids and empty or
multi-line rationales are errors, never silent no-ops.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from importlib.resources import files
from pathlib import Path

from collector.catalogue import Catalogue, control_sort_key
from collector.errors import UserError
from collector.yamlfile import read_yaml

__all__ = ["Mapping", "load_mapping"]


class Mapping:
    """The merged check -> control mapping."""

    def __init__(self, pairs: dict[str, dict[str, str]]) -> None:
        self._by_check: dict[str, dict[str, str]] = {
            check: {c: pairs[check][c] for c in sorted(pairs[check], key=control_sort_key)}
            for check in sorted(pairs)
            if pairs[check]
        }
        by_control: dict[str, list[str]] = {}
        for check, controls in self._by_check.items():
            for control in controls:
                by_control.setdefault(control, []).append(check)
        self._by_control = {control: tuple(sorted(c)) for control, c in by_control.items()}

    def controls_for(self, check_id: str) -> dict[str, str]:
        """Control id -> rationale for one check (catalogue order; empty when unmapped)."""
        return dict(self._by_check.get(check_id, {}))

    def checks_for(self, control_id: str) -> tuple[str, ...]:
        """The check ids mapped to one control, sorted."""
        return self._by_control.get(control_id, ())

    def pairs(self) -> Iterator[tuple[str, str, str]]:
        """Every ``(check_id, control_id, rationale)``, sorted by check then control."""
        for check, controls in self._by_check.items():
            for control, rationale in controls.items():
                yield check, control, rationale

    def mapped_controls(self) -> tuple[str, ...]:
        """Control ids that at least one check maps to, in catalogue order."""
        return tuple(sorted(self._by_control, key=control_sort_key))

    def unmapped(self, check_ids: Iterable[str]) -> list[str]:
        """The given check ids that map to no control, sorted and de-duplicated."""
        return sorted({check for check in check_ids if check not in self._by_check})


def _default_base() -> Path:
    return Path(str(files("mappings.annex_a") / "checks.yaml"))


def load_mapping(
    catalogue: Catalogue,
    known_checks: Collection[str],
    overrides: Sequence[Path] = (),
    base: Path | None = None,
) -> Mapping:
    """Load the built-in mapping (or ``base``) and merge each override file over it, in order.

    ``known_checks`` is every registered check id (not just the enabled ones).
    """
    merged: dict[str, dict[str, str]] = {}
    for path in (base or _default_base(), *overrides):
        _merge(merged, _read(Path(path)), Path(path).name, catalogue, known_checks)
    return Mapping(merged)


def _read(path: Path) -> dict:
    name = path.name
    raw = read_yaml(path)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(
            f"{name}: expected a mapping of check id -> {{control id: rationale}}, "
            f"got {type(raw).__name__}"
        )
    return raw


def _merge(
    merged: dict[str, dict[str, str]],
    layer: dict,
    name: str,
    catalogue: Catalogue,
    known_checks: Collection[str],
) -> None:
    # Validate the whole file before touching ``merged`` so a bad file leaves nothing half-applied.
    staged: list[tuple[str, dict[str, str | None] | None]] = []
    for check, controls in layer.items():
        if not isinstance(check, str) or check not in known_checks:
            raise UserError(f"{name}: check {check!r} is not a registered check")
        if controls is None:
            staged.append((check, None))
            continue
        if not isinstance(controls, dict):
            raise UserError(
                f"{name}: check {check!r}: expected a mapping of control id -> rationale, "
                f"got {type(controls).__name__}"
            )
        pairs: dict[str, str | None] = {}
        for control, rationale in controls.items():
            where = f"{name}: check {check!r}, control {control!r}"
            if not isinstance(control, str) or control not in catalogue:
                hint = " (a 2013 id; use the 2022 id)" if _is_2013(catalogue, control) else ""
                raise UserError(
                    f"{name}: check {check!r}: {control!r} is not an Annex A 2022 control{hint}"
                )
            if rationale is None:
                pairs[control] = None
                continue
            if not isinstance(rationale, str) or not rationale.strip():
                raise UserError(f"{where}: the rationale must be a non-empty string")
            if "\n" in rationale.strip():
                raise UserError(f"{where}: the rationale must be one line")
            pairs[control] = rationale.strip()
        staged.append((check, pairs))
    for check, pairs in staged:
        if pairs is None:
            merged.pop(check, None)
            continue
        target = merged.setdefault(check, {})
        for control, rationale in pairs.items():
            if rationale is None:
                target.pop(control, None)
            else:
                target[control] = rationale


def _is_2013(catalogue: Catalogue, control: object) -> bool:
    return isinstance(control, str) and bool(catalogue.translate(control))
