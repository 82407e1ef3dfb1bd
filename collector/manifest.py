"""The check manifest: the built-in checks' metadata, generated from the registry and shipped
with annexa, so read-only commands (``status``, ``checks``, ``controls``) list and judge checks
without importing every check module and its snapshot models.

The manifest records a fingerprint of the sources it was generated from. It is used only when
that fingerprint matches the installed sources and no entry-point pack is installed; otherwise
the registry is loaded as before. ``tests/test_manifest.py`` regenerates it and compares::

    python -m collector.manifest     # rewrite collector/checks_manifest.json

It also rewrites ``mappings/annex_a/parsed.json``, the shipped YAML parsed (see
:mod:`collector.yamlfile`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collector.errors import UserError

if TYPE_CHECKING:
    from collector.registry import Registry

ENTRY_POINT_GROUP = "annexa.checks"
#: Built-in packages scanned for checks and collectors (collectors first: checks need them).
BUILTIN_PACKAGES = (
    "collector.aws",
    "checks.aws",
    "collector.azure",
    "checks.azure",
    "checks.entra",
    "checks.intune",
    "collector.gcp",
    "checks.gcp",
    "collector.osquery",
    "checks.osquery",
    "collector.workspace",
    "checks.workspace",
    "collector.okta",
    "checks.okta",
    "collector.fleet",
    "checks.fleet",
    "collector.github",
    "checks.github",
    "collector.identity",
    "checks.identity",
)
#: Modules besides those packages whose code shapes the metadata (markers, validation).
_SHAPING = ("checks/api.py", "collector/collect.py", "collector/registry.py")
_ROOT = Path(__file__).resolve().parent.parent
PATH = Path(__file__).with_name("checks_manifest.json")


class Selects:
    """Selection over ``checks`` (by id), shared by the registry and the manifest."""

    checks: Mapping[str, Any]

    def providers(self) -> list[str]:
        return sorted({spec.provider for spec in self.checks.values()})

    def select(self, *, provider: str | None = None, ids: Iterable[str] | None = None) -> list[Any]:
        """Checks filtered by provider and/or ids (an unknown id or provider is a UserError),
        sorted by id."""
        chosen = list(self.checks.values())
        if ids is not None:
            wanted = list(ids)
            unknown = [i for i in wanted if i not in self.checks]
            if unknown:
                raise UserError(f"unknown check id(s): {', '.join(unknown)} (see 'annexa checks')")
            chosen = [self.checks[i] for i in wanted]
        if provider is not None:
            if provider not in self.providers():
                raise UserError(
                    f"unknown provider {provider!r} (choose from {', '.join(self.providers())})"
                )
            chosen = [c for c in chosen if c.provider == provider]
        return sorted(chosen, key=lambda c: c.id)


@dataclass(frozen=True)
class CheckInfo:
    """A check's metadata as the manifest holds it (a ``CheckSpec`` without its function and
    snapshot types, plus what the registry derives: scope and permissions per provider)."""

    id: str
    title: str
    provider: str
    severity: str
    interval: timedelta
    version: int
    remediation: str
    scope: str
    permissions: Mapping[str, tuple[str, ...]]  # provider -> sorted permissions


@dataclass(frozen=True)
class Manifest(Selects):
    """The registry's read-only face, from the manifest: built-in checks only."""

    checks: dict[str, CheckInfo]

    @property
    def origins(self) -> dict[str, str]:
        return dict.fromkeys(self.checks, "builtin")

    def scope_of(self, check: CheckInfo) -> str:
        return check.scope

    def permissions_for(self, check: CheckInfo, provider: str | None = None) -> tuple[str, ...]:
        """As ``Registry.permissions_for``."""
        if provider is not None:
            return check.permissions.get(provider, ())
        return tuple(sorted({p for perms in check.permissions.values() for p in perms}))


def load_index() -> Manifest | Registry:
    """What read-only commands need to know of the checks: the manifest when it is current
    and no entry-point pack is installed, else the full registry."""
    from importlib.metadata import entry_points

    if not entry_points(group=ENTRY_POINT_GROUP):
        manifest = read_manifest()
        if manifest is not None:
            return manifest
    from collector.registry import load_registry

    return load_registry()


def read_manifest(path: Path = PATH) -> Manifest | None:
    """The shipped manifest, or None when it is missing or not generated from these sources."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if data.get("fingerprint") != fingerprint():
        return None
    checks = {}
    for row in data["checks"]:
        row = dict(row)
        row["interval"] = timedelta(seconds=row.pop("interval_seconds"))
        row["permissions"] = {k: tuple(v) for k, v in row["permissions"].items()}
        checks[row["id"]] = CheckInfo(**row)
    return Manifest(checks)


def fingerprint() -> str:
    """SHA-256 over the sources the built-in checks' metadata comes from (each file's path
    relative to the tree and its bytes, in path order; ``os.walk``, not ``Path.rglob``: every
    start-up of ``status`` pays for it)."""
    names = set(_SHAPING)
    for package in BUILTIN_PACKAGES:
        for folder, _, files in os.walk(_ROOT / package.replace(".", "/")):
            below = Path(folder).relative_to(_ROOT).as_posix()
            names.update(f"{below}/{name}" for name in files if name.endswith(".py"))
    digest = hashlib.sha256()
    for name in sorted(names, key=lambda n: n.split("/")):  # as paths sort
        with open(_ROOT / name, "rb") as source:
            digest.update(name.encode() + b"\0" + source.read() + b"\0")
    return digest.hexdigest()


def generate() -> str:
    """The manifest's text for the built-in registry (entry-point packs left out)."""
    from collector.registry import load_registry

    registry = load_registry(entry_point_packs=False)
    rows = []
    for spec in sorted(registry.checks.values(), key=lambda c: c.id):
        providers = sorted({kind.provider for kind in spec.inputs} | spec.providers)
        rows.append(
            {
                "id": spec.id,
                "title": spec.title,
                "provider": spec.provider,
                "severity": spec.severity,
                "interval_seconds": spec.interval.total_seconds(),
                "version": spec.version,
                "remediation": spec.remediation,
                "scope": registry.scope_of(spec),
                "permissions": {p: list(registry.permissions_for(spec, p)) for p in providers},
            }
        )
    return json.dumps({"fingerprint": fingerprint(), "checks": rows}, indent=1) + "\n"


if __name__ == "__main__":
    from collector.yamlfile import PARSED, SHIPPED, generate_parsed

    PATH.write_text(generate(), encoding="utf-8")
    print(f"wrote {PATH}")
    (SHIPPED / PARSED).write_text(generate_parsed(), encoding="utf-8")
    print(f"wrote {SHIPPED / PARSED}")
