"""The build inputs a package carries in ``inputs/build.json``, so that ``verify --package``
can run the export's own build again on the package alone and compare every derived file.

The build reads, besides the period's sealed records: the period, the time the package was
generated (``now``), annexa's version, the selected controls, the scope status was judged over
(checks, targets, and when each target no longer configured stopped counting),
each mapped check's metadata (title, provider, severity, interval, version, remediation), the
catalogue, the mapping of those checks, the SoA, the exceptions and manual evidence items of
those checks and controls, and the runs. Everything else the build reads is left out: only
what can change a selected control's figures is kept (checks mapped to them, their exceptions,
the controls' manual items uploaded by the end of the period, the recorded status changes of
the controls the mapped checks evidence, which tell when a control was excluded).

The opening records (the newest record and newest conclusive record per (check, target) at
the start and at the end of the period, when they fall outside it) go to ``inputs/records/``
as sealed record files: status and continuity start from them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from checks.api import CheckSpec
from collector.catalogue import Catalogue, Control
from collector.mapping import Mapping, Pair, Strength
from collector.soa import Soa, SoaEntry
from collector.status import Scope
from storage import ManualEvidence, RiskException, RunRecord, Transition
from storage.sealing import canonical_json

__all__ = [
    "BUILD_INPUTS",
    "FORMAT_VERSION",
    "OPENING_RECORDS",
    "BuildInputs",
    "InvalidInputs",
    "decode_inputs",
    "encode_inputs",
]

FORMAT_VERSION = 2  # manifest.json's format_version: 2 adds inputs/ (re-derivable reports)
BUILD_INPUTS = "inputs/build.json"
OPENING_RECORDS = "inputs/records/"


class InvalidInputs(ValueError):
    """``inputs/build.json`` is not what an export writes (the message says what)."""


@dataclass(frozen=True)
class BuildInputs:
    """Everything besides the sealed records that the build of one package reads."""

    annexa_version: str
    generated_at: datetime  # the export's ``now``
    start: datetime
    end: datetime
    controls: tuple[str, ...]
    scope: Scope
    checks: dict[str, CheckSpec]
    catalogue: Catalogue
    mapping: Mapping
    soa: Soa
    exceptions: tuple[RiskException, ...]
    manual: tuple[ManualEvidence, ...]
    runs: dict[str, RunRecord]
    # the recorded status changes of the mapped controls: what applicability they had when
    # (continuity counts time a control was excluded apart); id, control, states and time only
    transitions: tuple[Transition, ...] = ()


def _never(*_: object) -> Iterable[Any]:  # a re-derived check is never run
    return ()


def _us(value: timedelta | None) -> int | None:
    return None if value is None else value // timedelta(microseconds=1)


def _delta(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(microseconds=value)


def encode_inputs(inputs: BuildInputs) -> bytes:
    """``inputs/build.json``: canonical values (times with microseconds, durations in
    microseconds), indented for a reader."""
    mapping: dict[str, dict[str, Any]] = {}
    for check, control, p in inputs.mapping.pairs():
        mapping.setdefault(check, {})[control] = {"strength": p.strength.value, "why": p.why}
    document = {
        "format_version": FORMAT_VERSION,
        "annexa_version": inputs.annexa_version,
        "generated_at": inputs.generated_at,
        "period": {"from": inputs.start, "to": inputs.end},
        "controls": list(inputs.controls),
        "scope": {
            "checks": sorted(inputs.scope.checks),
            "targets": None if inputs.scope.targets is None else sorted(inputs.scope.targets),
            "providers": dict(sorted(inputs.scope.providers.items())),
            "accounts": {p: sorted(a) for p, a in sorted(inputs.scope.accounts.items())},
            "regions": {p: sorted(r) for p, r in sorted(inputs.scope.regions.items())},
            "retired": [
                {"check": check, "target": target, "until": until}
                for (check, target), until in sorted(inputs.scope.retired.items())
            ],
        },
        "checks": {
            c.id: {
                "title": c.title,
                "provider": c.provider,
                "severity": c.severity,
                "interval_us": _us(c.interval),
                "version": c.version,
                "remediation": c.remediation,
            }
            for c in sorted(inputs.checks.values(), key=lambda c: c.id)
        },
        "catalogue": [asdict(c) for c in inputs.catalogue.controls],
        "mapping": mapping,
        "soa": {
            "name": inputs.soa.path.name,
            "entries": [
                {**asdict(e), "max_evidence_age": _us(e.max_evidence_age)}
                for e in inputs.soa.entries.values()
            ],
        },
        "exceptions": [asdict(e) for e in inputs.exceptions],
        "manual": [asdict(m) for m in inputs.manual],
        "runs": [asdict(r) for r in inputs.runs.values()],
        "transitions": [{n: getattr(t, n) for n in _TRANSITION} for t in inputs.transitions],
    }
    plain = json.loads(canonical_json(document))
    return (json.dumps(plain, indent=1, ensure_ascii=False, sort_keys=True) + "\n").encode()


_TRANSITION = ("id", "control_id", "from_state", "to_state", "at")


def _transition(data: dict[str, Any]) -> Transition:
    return Transition(**{**data, "at": _time(data["at"])}, reasons=(), alert_state="none")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _times(cls: type, data: dict[str, Any]) -> Any:
    """``cls(**data)`` with its datetime fields parsed."""
    names = {f.name: f.type for f in fields(cls)}
    values = {
        k: (_time(v) if isinstance(v, str) and "datetime" in str(names.get(k)) else v)
        for k, v in data.items()
    }
    return cls(**values)


def decode_inputs(data: bytes) -> BuildInputs:
    """Parse ``inputs/build.json``; InvalidInputs names the first thing wrong."""
    try:
        doc = json.loads(data)
        catalogue = Catalogue(
            Control(c["id"], c["title"], c["theme"], c["new_in_2022"], tuple(c["iso2013"]))
            for c in doc["catalogue"]
        )
        checks = {
            check: CheckSpec(
                id=check,
                title=c["title"],
                provider=c["provider"],
                severity=c["severity"],
                interval=_delta(c["interval_us"]),  # type: ignore[arg-type]
                version=c["version"],
                remediation=c["remediation"],
                func=_never,
                inputs=(),
            )
            for check, c in doc["checks"].items()
        }
        mapping = Mapping(
            {
                check: {
                    control: Pair(Strength(p["strength"]), p["why"])
                    for control, p in controls.items()
                }
                for check, controls in doc["mapping"].items()
            }
        )
        entries = {}
        for e in doc["soa"]["entries"]:
            entry = SoaEntry(**{**e, "max_evidence_age": _delta(e["max_evidence_age"])})
            entries[entry.control_id] = entry
        scope = doc["scope"]
        runs = [_times(RunRecord, r) for r in doc["runs"]]
        return BuildInputs(
            annexa_version=doc["annexa_version"],
            generated_at=_time(doc["generated_at"]),
            start=_time(doc["period"]["from"]),
            end=_time(doc["period"]["to"]),
            controls=tuple(doc["controls"]),
            scope=Scope(
                frozenset(scope["checks"]),
                dict(scope["providers"]),
                None if scope["targets"] is None else frozenset(scope["targets"]),
                {p: frozenset(a) for p, a in scope.get("accounts", {}).items()},
                {p: frozenset(r) for p, r in scope.get("regions", {}).items()},
                {(r["check"], r["target"]): _time(r["until"]) for r in scope.get("retired", [])},
            ),
            checks=checks,
            catalogue=catalogue,
            mapping=mapping,
            soa=Soa(Path(doc["soa"]["name"]), entries),
            exceptions=tuple(_times(RiskException, e) for e in doc["exceptions"]),
            manual=tuple(_times(ManualEvidence, m) for m in doc["manual"]),
            runs={r.id: r for r in runs},
            transitions=tuple(_transition(t) for t in doc["transitions"]),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInputs(
            f"{BUILD_INPUTS}: not valid build inputs ({type(exc).__name__}: {exc})"
        ) from None
