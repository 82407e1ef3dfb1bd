"""Check -> Annex A control mapping: each pair has a strength and a one-line rationale.

The built-in mapping is ``mappings/annex_a/checks.yaml``; an organisation layers its own YAML
files of the same shape on top::

    aws.s3.public_access_blocked:
      A.8.3: {strength: sufficient, why: every bucket's effective block stops anonymous access}
      A.8.12: {strength: supporting}      # change one field of an existing pair
      A.5.15: null                        # remove a pair
    aws.iam.root_mfa_enabled: null        # remove all pairs of a check

``sufficient``: the check on its own evidences the control's technical requirement.
``supporting``: it only supports the control, which also needs valid manual evidence to pass.

Every file is validated at load: unknown check ids, unknown or 2013 control ids, unknown
strengths and empty or multi-line rationales are errors, never silent no-ops.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from importlib.resources import files
from pathlib import Path

from collector.catalogue import Catalogue, control_sort_key
from collector.errors import UserError
from collector.yamlfile import read_yaml

__all__ = ["Mapping", "Pair", "Strength", "load_mapping"]


class Strength(StrEnum):
    """How far one check evidences one control."""

    SUFFICIENT = "sufficient"
    SUPPORTING = "supporting"


@dataclass(frozen=True)
class Pair:
    """One (check, control) pair's strength and rationale."""

    strength: Strength
    why: str


class Mapping:
    """The merged check -> control mapping."""

    def __init__(self, pairs: dict[str, dict[str, Pair]]) -> None:
        self._by_check: dict[str, dict[str, Pair]] = {
            check: {c: pairs[check][c] for c in sorted(pairs[check], key=control_sort_key)}
            for check in sorted(pairs)
            if pairs[check]
        }
        by_control: dict[str, list[str]] = {}
        for check, controls in self._by_check.items():
            for control in controls:
                by_control.setdefault(control, []).append(check)
        self._by_control = {control: tuple(sorted(c)) for control, c in by_control.items()}

    def controls_for(self, check_id: str) -> dict[str, Pair]:
        """Control id -> pair for one check (catalogue order; empty when unmapped)."""
        return dict(self._by_check.get(check_id, {}))

    def checks_for(self, control_id: str) -> tuple[str, ...]:
        """The check ids mapped to one control, sorted."""
        return self._by_control.get(control_id, ())

    def pair(self, check_id: str, control_id: str) -> Pair:
        """The pair of one mapped (check, control); KeyError when not mapped."""
        return self._by_check[check_id][control_id]

    def pairs(self) -> Iterator[tuple[str, str, Pair]]:
        """Every ``(check_id, control_id, pair)``, sorted by check then control."""
        for check, controls in self._by_check.items():
            for control, pair in controls.items():
                yield check, control, pair

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
    merged: dict[str, dict[str, Pair]] = {}
    for path in (base or _default_base(), *overrides):
        _merge(merged, _read(Path(path)), Path(path).name, catalogue, known_checks)
    return Mapping(merged)


_PAIR_FORM = "{strength: sufficient|supporting, why: one line}"


def _read(path: Path) -> dict:
    name = path.name
    raw = read_yaml(path)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError(
            f"{name}: expected a mapping of check id -> {{control id: {_PAIR_FORM}}}, "
            f"got {type(raw).__name__}"
        )
    return raw


# A staged field is None when the file leaves it to the pair it overrides.
_Staged = tuple[Strength | None, str | None]


def _parse_pair(where: str, value: object) -> _Staged:
    if not isinstance(value, dict):
        raise UserError(f"{where}: expected {_PAIR_FORM}, got {type(value).__name__}")
    unknown = sorted(str(k) for k in value if k not in ("strength", "why"))
    if unknown:
        raise UserError(f"{where}: unknown field {unknown[0]!r} (expected strength, why)")
    strength = value.get("strength")
    if "strength" in value and strength not in tuple(Strength):
        raise UserError(
            f"{where}: field 'strength': {strength!r} is not one of sufficient, supporting"
        )
    why = value.get("why")
    if "why" in value:
        if not isinstance(why, str) or not why.strip():
            raise UserError(f"{where}: field 'why': the rationale must be a non-empty string")
        if "\n" in why.strip():
            raise UserError(f"{where}: field 'why': the rationale must be one line")
        why = why.strip()
    return (Strength(strength) if strength is not None else None), why


def _merge(
    merged: dict[str, dict[str, Pair]],
    layer: dict,
    name: str,
    catalogue: Catalogue,
    known_checks: Collection[str],
) -> None:
    # Validate the whole file before touching ``merged`` so a bad file leaves nothing half-applied.
    staged: list[tuple[str, dict[str, Pair | None] | None]] = []
    for check, controls in layer.items():
        if not isinstance(check, str) or check not in known_checks:
            raise UserError(f"{name}: check {check!r} is not a registered check")
        if controls is None:
            staged.append((check, None))
            continue
        if not isinstance(controls, dict):
            raise UserError(
                f"{name}: check {check!r}: expected a mapping of control id -> {_PAIR_FORM}, "
                f"got {type(controls).__name__}"
            )
        pairs: dict[str, Pair | None] = {}
        for control, value in controls.items():
            if not isinstance(control, str) or control not in catalogue:
                hint = " (a 2013 id; use the 2022 id)" if _is_2013(catalogue, control) else ""
                raise UserError(
                    f"{name}: check {check!r}: {control!r} is not an Annex A 2022 control{hint}"
                )
            if value is None:
                pairs[control] = None
                continue
            where = f"{name}: check {check!r}, control {control!r}"
            strength, why = _parse_pair(where, value)
            existing = merged.get(check, {}).get(control)
            if existing is not None:
                pairs[control] = replace(
                    existing, strength=strength or existing.strength, why=why or existing.why
                )
            elif strength is None or why is None:
                missing = "strength" if strength is None else "why"
                raise UserError(f"{where}: field {missing!r} is required for a new pair")
            else:
                pairs[control] = Pair(strength, why)
        staged.append((check, pairs))
    for check, pairs in staged:
        if pairs is None:
            merged.pop(check, None)
            continue
        target = merged.setdefault(check, {})
        for control, pair in pairs.items():
            if pair is None:
                target.pop(control, None)
            else:
                target[control] = pair


def _is_2013(catalogue: Catalogue, control: object) -> bool:
    return isinstance(control, str) and bool(catalogue.translate(control))
