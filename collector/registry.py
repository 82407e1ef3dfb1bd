"""The registry: which checks and collectors exist, validated at load time.

Built-in checks and collectors are listed here explicitly; third-party packs register the
entry-point group ``annexa.checks`` pointing at a module or package, which is scanned for
``@check`` and ``@collects`` functions. Every problem fails the load with a clear message:
duplicate ids, a snapshot no collector provides, two collectors for one snapshot.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType

from checks.api import CheckSpec, Snapshot, spec_of
from collector.collect import CollectorSpec, collector_of
from collector.errors import UserError
from collector.manifest import BUILTIN_PACKAGES, ENTRY_POINT_GROUP, Selects


@dataclass(frozen=True)
class Registry(Selects):
    """All known checks (by id) and collectors (by the snapshot type they produce)."""

    checks: dict[str, CheckSpec]
    collectors: dict[type[Snapshot], CollectorSpec]
    origins: dict[str, str]  # check id -> "builtin" or the entry point that brought it

    def scope_of(self, check: CheckSpec) -> str:
        """``"region"`` when any snapshot the check reads from its own target is collected per
        region (a cross-provider input is read from every target of its provider instead)."""
        scopes = {self.collectors[kind].scope for kind in check.own_inputs}
        return "region" if "region" in scopes else "account"

    def permissions_for(self, check: CheckSpec, provider: str | None = None) -> tuple[str, ...]:
        """Every API permission the check's collectors declare (only those of ``provider``'s
        snapshots when given: a cross-provider check needs some from each), sorted."""
        kinds = [k for k in check.inputs if provider is None or k.provider == provider]
        return tuple(sorted({p for kind in kinds for p in self.collectors[kind].permissions}))

    def parts_needed(self, checks: Iterable[CheckSpec]) -> dict[type[Snapshot], frozenset[str]]:
        """Per snapshot that ``checks`` read, the optional parts they need (a collector then
        reads only those; see ``collects(parts=...)``)."""
        readers: dict[type[Snapshot], set[str]] = {}
        for check in checks:
            for kind in check.inputs:
                readers.setdefault(kind, set()).add(check.id)
        return {
            kind: self.collectors[kind].parts_for(ids)
            for kind, ids in readers.items()
            if self.collectors[kind].parts
        }


def load_registry(*, entry_point_packs: bool = True, extra: Iterable[str] = ()) -> Registry:
    """Load built-ins, ``extra`` module names and (optionally) entry-point packs, validated."""
    sources: list[tuple[str, ModuleType]] = [
        ("builtin", _import(name, "builtin")) for name in BUILTIN_PACKAGES
    ]
    sources += [(name, _import(name, name)) for name in extra]
    if entry_point_packs:
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            label = f"entry point {ep.name!r} ({ep.value})"
            try:
                module = ep.load()
            except Exception as exc:
                raise UserError(f"{label} failed to load: {type(exc).__name__}: {exc}") from None
            if not isinstance(module, ModuleType):
                raise UserError(f"{label} must point at a module or package")
            sources.append((label, module))
    return build_registry(sources)


def build_registry(sources: Iterable[tuple[str, ModuleType]]) -> Registry:
    """Scan modules for checks and collectors and validate them together."""
    checks: dict[str, CheckSpec] = {}
    collectors: dict[type[Snapshot], CollectorSpec] = {}
    origins: dict[str, str] = {}
    seen: set[int] = set()
    for origin, package in sources:
        for obj in _members(package):
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            try:
                spec = spec_of(obj)
            except ValueError as exc:
                raise UserError(f"{origin}: {exc}") from None
            if spec is not None:
                if spec.id in checks:
                    raise UserError(
                        f"{origin}: duplicate check id {spec.id!r} "
                        f"(already registered by {origins[spec.id]})"
                    )
                checks[spec.id] = spec
                origins[spec.id] = origin
            collector = collector_of(obj)
            if collector is not None:
                if collector.snapshot in collectors:
                    raise UserError(
                        f"{origin}: two collectors provide {collector.snapshot.__name__}: "
                        f"{collectors[collector.snapshot].name} and {collector.name}"
                    )
                collectors[collector.snapshot] = collector
    for spec in checks.values():
        for kind in spec.inputs:
            if kind not in collectors:
                raise UserError(
                    f"check {spec.id!r} needs {kind.__name__}, but no collector provides it"
                )
    for collector in collectors.values():
        for check_id in collector.parts:
            if check_id not in checks or collector.snapshot not in checks[check_id].inputs:
                raise UserError(
                    f"collector {collector.name} names parts for {check_id!r}, "
                    f"which is not a check reading {collector.snapshot.__name__}"
                )
    return Registry(checks=checks, collectors=collectors, origins=origins)


def _import(name: str, origin: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except Exception as exc:
        raise UserError(f"{origin}: cannot import {name}: {type(exc).__name__}: {exc}") from None


def _members(package: ModuleType) -> Iterator[object]:
    """Functions defined in ``package`` and, when it is a package, in all its submodules.

    Of a built-in package, only the modules whose source marks a check or a collector are
    imported: a provider's plumbing (credentials, HTTP clients) imports its SDK, which a run
    loads only when that provider's accounts are resolved (``collector.providers``).
    """
    modules = [package]
    if hasattr(package, "__path__"):
        builtin = package.__name__.split(".")[0] in _BUILTIN_ROOTS
        for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + "."):
            if builtin and not info.ispkg and not _marks_plugins(info):
                continue
            modules.append(importlib.import_module(info.name))
    for module in modules:
        for value in vars(module).values():
            if callable(value) and getattr(value, "__module__", None) == module.__name__:
                yield value


_BUILTIN_ROOTS = {name.split(".")[0] for name in BUILTIN_PACKAGES}
_MARKERS = ("@check(", "@collects(")


def _marks_plugins(info: pkgutil.ModuleInfo) -> bool:
    """Whether a module's source uses ``@check`` or ``@collects`` (unknown source: assume so)."""
    spec = info.module_finder.find_spec(info.name, None)  # type: ignore[call-arg]
    try:
        source = Path(spec.origin).read_text(encoding="utf-8")  # type: ignore[union-attr,arg-type]
    except (AttributeError, TypeError, OSError, UnicodeDecodeError):
        return True
    return any(marker in source for marker in _MARKERS)
