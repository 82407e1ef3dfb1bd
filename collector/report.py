"""Rows for every listing (status, checks, controls, evidence, runs): plain dicts, one shape
for table, JSON and CSV output."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from checks.api import CheckSpec
from collector.app import Workspace
from collector.status import ControlStatus
from storage import EvidenceRecord, RunRecord

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """``value`` for a CSV or spreadsheet cell: prefixed with ``'`` when a spreadsheet would
    read it as a formula (OWASP's CSV-injection rule: ``= + - @``, tab, carriage return)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def iso(value: datetime | None) -> str:
    """ISO 8601 UTC with seconds, or empty."""
    return value.isoformat(timespec="seconds") if value else ""


def duration(value: timedelta) -> str:
    """``6h``, ``1d``, ``90m``: the shortest exact unit."""
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def status_rows(statuses: Iterable[ControlStatus]) -> list[dict[str, Any]]:
    return [
        {
            "control": s.control.id,
            "title": s.control.title,
            "theme": s.control.theme,
            "state": s.state.value,
            "at_risk": s.at_risk,
            "in_soa": s.in_soa,
            "owner": s.owner,
            "checks": list(s.checks),
            "last_evidence_at": iso(s.last_evidence_at),
            "exceptions": [
                f"#{e.id} approved by {e.approved_by}, expires {iso(e.expires_at)}: {e.reason}"
                for e in s.exceptions
            ],
            "reasons": [_reason(r) for r in s.reasons]
            or ([s.justification] if s.justification else []),
        }
        for s in statuses
    ]


def _reason(reason: Any) -> str:
    where = " ".join(
        p for p in (reason.check_id, reason.target_key and f"@ {reason.target_key}") if p
    )
    return f"{reason.state.value}: {where}: {reason.message}" if where else reason.message


def check_rows(workspace: Workspace, checks: Iterable[CheckSpec]) -> list[dict[str, Any]]:
    registry = workspace.registry
    return [
        {
            "id": c.id,
            "title": c.title,
            "provider": c.provider,
            "severity": c.severity,
            "interval": duration(c.interval),
            "version": c.version,
            "scope": registry.scope_of(c),
            "controls": list(workspace.mapping.controls_for(c.id)),
            "permissions": list(registry.permissions_for(c)),
            "origin": registry.origins[c.id],
        }
        for c in checks
    ]


def control_rows(workspace: Workspace, provider: str | None = None) -> list[dict[str, Any]]:
    """The catalogue with the checks mapped to each control (only ``provider``'s if given);
    ``in_scope``: whether a mapped check is in scope (configured provider, selected)."""
    checks = {c.id for c in workspace.registry.select(provider=provider)}
    in_scope = workspace.scope(provider=provider, store=None).checks  # accounts unused
    rows = []
    for control in workspace.catalogue.controls:
        mapped = [c for c in workspace.mapping.checks_for(control.id) if c in checks]
        pairs = [workspace.mapping.pair(c, control.id) for c in mapped]
        rows.append(
            {
                "control": control.id,
                "title": control.title,
                "theme": control.theme,
                "automated": bool(mapped),
                "in_scope": any(c in in_scope for c in mapped),
                "checks": mapped,
                "strength": [p.strength.value for p in pairs],
                "rationale": [p.why for p in pairs],
            }
        )
    return rows


def evidence_rows(records: Iterable[EvidenceRecord], *, full: bool = False) -> list[dict[str, Any]]:
    rows = []
    for r in records:
        row: dict[str, Any] = {
            "id": r.id,
            "collected_at": iso(r.collected_at),
            "check": r.check_id,
            "version": r.check_version,
            "target": r.target_key,
            "status": r.status,
            "summary": r.summary,
            "run": r.run_id,
            "hash": r.content_hash if full else r.content_hash[:12],
        }
        if full:
            row |= {
                "previous_hash": r.previous_hash,
                "error": r.error,
                "findings": r.findings,
                "observations": r.observations,
            }
        rows.append(row)
    return rows


def run_rows(runs: Iterable[RunRecord]) -> list[dict[str, Any]]:
    return [
        {
            "run": r.id,
            "started_at": iso(r.started_at),
            "finished_at": iso(r.finished_at),
            "outcome": r.outcome,
            "trigger": r.trigger,
            "records": r.records,
            "planned": r.planned,
        }
        for r in runs
    ]
