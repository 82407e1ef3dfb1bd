"""Audit evidence commands as plain functions: manual evidence, exceptions, point-in-time status,
continuity, verification and retention. The CLI parses, calls one of these, and renders.

Times given on the command line are ISO 8601; a bare date is midnight UTC (for ``--to`` and an
exception's ``--expires``: the end of that day, i.e. the next midnight UTC, in every command); a
time without offset is UTC. A period never reaches past now: ``clip_period`` stops it there.
"""

from __future__ import annotations

import getpass
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from checks.api import parse_duration
from collector.app import Workspace
from collector.applicability import applicability
from collector.continuity import Continuity, continuity, tightest_max_ages
from collector.errors import UserError
from collector.manual import current_items, read_upload
from collector.report import iso
from collector.soa import Soa
from collector.status import ControlStatus, Scope, evaluate
from storage import (
    EvidenceStore,
    EvidenceSummary,
    ManualEvidence,
    RiskException,
    Tombstone,
    VerifyReport,
)

__all__ = [
    "Period",
    "add_exception",
    "add_manual_evidence",
    "clip_period",
    "continuity_fields",
    "exception_rows",
    "list_exceptions",
    "list_manual_evidence",
    "manual_rows",
    "parse_instant",
    "parse_period",
    "period_continuity",
    "prunable",
    "prune",
    "revoke_exception",
    "status_over_period",
    "statuses_at",
    "statuses_from",
    "verify",
    "write_manual_file",
]


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)  # plus any duration (at most 100 years) stays valid


def parse_instant(value: str, option: str, *, end_of_day: bool = False) -> datetime:
    """``2026-03-31T12:00:00Z`` or ``2026-03-31`` -> aware UTC between 1970 and 9000;
    one-line UserError otherwise."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            at = datetime.combine(day, time(0), tzinfo=UTC)
            at = at + timedelta(days=1) if end_of_day else at
        else:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
            at = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except ValueError:
        raise UserError(
            f"{option}: {value!r} is not a date or time (use e.g. 2026-03-31 or "
            "2026-03-31T12:00:00Z)"
        ) from None
    except OverflowError:
        at = LATEST
    if not EARLIEST <= at < LATEST:
        raise UserError(f"{option}: {value!r} is out of range (years 1970 to 8999, UTC)")
    return at


def parse_period(
    start: str | None, end: str | None, now: datetime
) -> tuple[datetime, datetime] | None:
    """``--from``/``--to`` -> ``(start, end)`` (a ``--to`` date is the end of that day; end
    defaults to ``now``), None without ``--from``; UserError for ``--to`` alone or an empty
    or inverted period. The period is not clipped here (see ``clip_period``)."""
    if start is None:
        if end is not None:
            raise UserError("--to needs --from (the start of the continuity period)")
        return None
    begin = parse_instant(start, "--from")
    until = parse_instant(end, "--to", end_of_day=True) if end is not None else now
    _check_period(begin, until)
    return begin, until


def clip_period(
    start: datetime, end: datetime, now: datetime
) -> tuple[datetime, datetime, str | None]:
    """The period stopped at ``now`` (time after now is never counted as covered or as a
    gap), with a one-line note when it was clipped; UserError when it starts after now."""
    _check_period(start, end)
    if start >= now:
        raise UserError(f"--from {iso(start)} is in the future (now is {iso(now)})")
    if end <= now:
        return start, end, None
    return start, now, f"the period ends after now: clipped to {iso(now)} (was {iso(end)})"


def _check_period(start: datetime, end: datetime) -> None:
    if end <= start:
        raise UserError(
            f"empty or inverted period: --from {iso(start)} must be before --to {iso(end)}"
        )


def _user(by: str | None) -> str:
    if by and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def _required(value: str | None, option: str, what: str) -> str:
    if value is None or not value.strip():
        raise UserError(f"{option} is required: {what}")
    return value.strip()


# -- manual evidence -------------------------------------------------------------------------


def add_manual_evidence(
    workspace: Workspace,
    store: EvidenceStore,
    *,
    control: str,
    path: Path,
    valid_for: str,
    note: str = "",
    by: str | None = None,
    now: datetime,
) -> list[ManualEvidence]:
    """Store ``path`` (content-addressed) as manual evidence for ``control`` (a 2013 id is
    translated: one item per 2022 control it maps to), valid from ``now`` for ``valid_for``."""
    controls = workspace.catalogue.translate(control.strip())
    if not controls:
        raise UserError(f"unknown control id {control!r} (expected e.g. A.5.1, or a 2013 id)")
    try:
        validity = parse_duration(valid_for)
    except ValueError as exc:
        raise UserError(f"--valid-for: {exc}") from None
    upload = read_upload(path)
    return store.add_manual(
        controls,
        upload.content,
        file_name=upload.file_name,
        media_type=upload.media_type,
        note=note,
        uploaded_at=now,
        valid_until=now + validity,
        uploaded_by=_user(by),
    )


def list_manual_evidence(
    workspace: Workspace,
    store: EvidenceStore,
    *,
    control: str | None = None,
    include_all: bool = False,
    now: datetime,
) -> list[ManualEvidence]:
    """Manual evidence items: per control the current one (not superseded, not expired), or
    every item ever uploaded with ``include_all``."""
    ids = None
    if control is not None:
        ids = workspace.catalogue.translate(control.strip())
        if not ids:
            raise UserError(f"unknown control id {control!r} (expected e.g. A.5.1)")
    items = store.manual_items(ids)
    return items if include_all else current_items(items, now)


def manual_rows(items: Sequence[ManualEvidence], now: datetime) -> list[dict[str, Any]]:
    """Rows for ``evidence list``; ``state`` is current, superseded or expired at ``now``."""
    current = {i.id for i in current_items(items, now)}
    newest: dict[str, int] = {}
    for item in sorted(items, key=lambda i: (i.uploaded_at, i.id)):
        newest[item.control_id] = item.id
    rows = []
    for i in items:
        state = "current"
        if i.id not in current:
            state = "superseded" if newest[i.control_id] != i.id else "expired"
        rows.append(
            {
                "id": i.id,
                "control": i.control_id,
                "file": i.file_name,
                "sha256": i.sha256,
                "size": i.size,
                "media_type": i.media_type,
                "uploaded_at": iso(i.uploaded_at),
                "uploaded_by": i.uploaded_by,
                "valid_from": iso(i.valid_from),
                "valid_until": iso(i.valid_until),
                "state": state,
                "note": i.note,
            }
        )
    return rows


def write_manual_file(store: EvidenceStore, sha256: str, out: Path) -> int:
    """Write the stored file with this SHA-256 to ``out``; return its size."""
    content = store.blob(sha256.strip())
    if content is None:
        raise UserError(f"no manual evidence file with sha256 {sha256}")
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    return len(content)


# -- exceptions ------------------------------------------------------------------------------


def add_exception(
    workspace: Workspace,
    store: EvidenceStore,
    *,
    check: str,
    resource: str,
    reason: str | None,
    approved_by: str | None,
    expires: str | None,
    target: str = "*",
    by: str | None = None,
    now: datetime,
) -> RiskException:
    """Record an approved exception after validating every field (nothing written on error)."""
    if check not in workspace.registry.checks:
        raise UserError(f"unknown check id {check!r} (see annexa checks)")
    pattern = _required(resource, "--resource", "the fnmatch pattern of the accepted resources")
    why = _required(reason, "--reason", "why the risk is accepted")
    approver = _required(approved_by, "--approved-by", "who approved the risk acceptance")
    expiry = parse_instant(
        _required(expires, "--expires", "an exception must expire"), "--expires", end_of_day=True
    )
    if expiry <= now:
        raise UserError(f"--expires {expires}: that is in the past (exceptions must expire later)")
    return store.add_exception(
        check_id=check,
        resource_pattern=pattern,
        target_pattern=(target or "*").strip() or "*",
        reason=why,
        approved_by=approver,
        created_at=now,
        expires_at=expiry,
        created_by=_user(by),
    )


def list_exceptions(
    store: EvidenceStore, *, include_all: bool = False, now: datetime
) -> list[RiskException]:
    """Exceptions active at ``now``, or every one ever recorded with ``include_all``."""
    found = store.exceptions()
    return found if include_all else [e for e in found if e.active_at(now)]


def revoke_exception(
    store: EvidenceStore, exception_id: int, *, reason: str | None, by: str | None, now: datetime
) -> RiskException:
    """Revoke an exception (a new row; the exception itself is kept)."""
    why = _required(reason, "--reason", "why the exception is revoked")
    try:
        return store.revoke_exception(
            exception_id, revoked_at=now, revoked_by=_user(by), reason=why
        )
    except KeyError:
        raise UserError(f"no exception #{exception_id}") from None
    except ValueError as exc:
        raise UserError(str(exc)) from None


def exception_rows(exceptions: Sequence[RiskException], now: datetime) -> list[dict[str, Any]]:
    rows = []
    for e in exceptions:
        state = "active" if e.active_at(now) else "expired"
        if e.revoked_at is not None and e.revoked_at <= now:
            state = "revoked"
        rows.append(
            {
                "id": e.id,
                "check": e.check_id,
                "resource": e.resource_pattern,
                "target": e.target_pattern,
                "reason": e.reason,
                "approved_by": e.approved_by,
                "created_at": iso(e.created_at),
                "expires_at": iso(e.expires_at),
                "state": state,
                "revoked_at": iso(e.revoked_at),
                "revoke_reason": e.revoke_reason or "",
            }
        )
    return rows


# -- status at an instant and over a period ---------------------------------------------------


def statuses_at(
    workspace: Workspace,
    store: EvidenceStore,
    soa: Soa | None,
    at: datetime,
    scope: Scope | None = None,
) -> list[ControlStatus]:
    """Every control as it stood at ``at``, from stored evidence only: the latest record per
    (check, target) collected at or before ``at``, manual items uploaded by then, exceptions
    active then (a later revocation does not reach back); over ``scope`` (default: the
    config's, a removed target counting for the time it existed)."""
    return _evaluate_at(workspace, store, soa, at, store.manual_items(), store.exceptions(), scope)


def _evaluate_at(
    workspace: Workspace,
    store: EvidenceStore,
    soa: Soa | None,
    at: datetime,
    manual: Sequence[ManualEvidence],
    exceptions: Sequence[RiskException],
    scope: Scope | None,
) -> list[ControlStatus]:
    scope = scope or workspace.with_history(workspace.scope(store=store), store)
    return statuses_from(workspace, soa, store.latest_at(at), at, manual, exceptions, scope)


def statuses_from(
    workspace: Workspace,
    soa: Soa | None,
    latest: Sequence[EvidenceSummary],
    at: datetime,
    manual: Sequence[ManualEvidence],
    exceptions: Sequence[RiskException],
    scope: Scope,
) -> list[ControlStatus]:
    """Every control's status at ``at`` from ``latest`` (the newest evidence per (check,
    target) then); a control's status needs only the evidence of its mapped checks, judged
    over ``scope`` (``Workspace.scope``; a view of the past: ``Workspace.with_history``'s)."""
    return evaluate(
        workspace.catalogue,
        soa,
        workspace.mapping,
        latest,
        workspace.intervals(),
        at,
        scope=scope,
        manual=manual,
        exceptions=exceptions,
    )


@dataclass(frozen=True)
class Period:
    """Statuses at ``at`` plus every control's continuity over ``[start, end)``."""

    start: datetime
    end: datetime
    statuses: list[ControlStatus]
    continuity: list[Continuity]


def status_over_period(
    workspace: Workspace,
    store: EvidenceStore,
    soa: Soa | None,
    *,
    start: datetime,
    end: datetime,
    at: datetime,
    scope: Scope | None = None,
) -> Period:
    """Statuses at ``at`` and continuity over ``[start, end)`` (clip it at now first: see
    ``clip_period``); UserError on a bad period."""
    _check_period(start, end)
    manual, exceptions = store.manual_items(), store.exceptions()
    scope = scope or workspace.with_history(workspace.scope(store=store), store)
    found = period_continuity(
        workspace, store, soa, start, end, manual=manual, exceptions=exceptions, scope=scope
    )
    statuses = _evaluate_at(workspace, store, soa, at, manual, exceptions, scope)
    return Period(start, end, statuses, found)


def period_continuity(
    workspace: Workspace,
    store: EvidenceStore,
    soa: Soa | None,
    start: datetime,
    end: datetime,
    *,
    manual: Sequence[ManualEvidence],
    exceptions: Sequence[RiskException],
    controls: Sequence[str] | None = None,
    scope: Scope | None = None,
) -> list[Continuity]:
    """Every control's continuity over ``[start, end)`` from the store, in bounded memory: the
    timeline streams from the store run-length compressed (``timeline(max_ages=...)``), so memory
    grows with state changes, not records. ``controls`` limits the evidence read to the checks
    mapped to them (the other controls then show no evidence). ``scope``: default the
    config's, a removed target counting for the time it existed. Applicability is the SoA's,
    corrected by the changes the store recorded (``collector.applicability``), as in
    ``annexa report``."""
    mapping, intervals = workspace.mapping, workspace.intervals()
    scope = scope or workspace.with_history(workspace.scope(store=store), store)
    if controls is None:
        checks = {c for c, _, _ in mapping.pairs()}
    else:
        checks = {c for control in controls for c in mapping.checks_for(control)}
    changed = applicability(store.transitions(), soa)
    max_ages = tightest_max_ages(soa, mapping, intervals, also=set(changed))
    history = store.timeline(start, end, check_ids=sorted(checks), max_ages=max_ages)
    return continuity(
        workspace.catalogue,
        soa,
        mapping,
        history,
        intervals,
        start,
        end,
        scope=scope,
        manual=manual,
        exceptions=exceptions,
        applicable=changed,
    )


def continuity_fields(period: Period, *, structured: bool) -> dict[str, dict[str, Any]]:
    """Control id -> ``continuity`` (percentage, None when not applicable) and ``gaps`` (dicts
    when ``structured``, else ``cause start/end`` strings)."""
    fields = {}
    for c in period.continuity:
        gaps: list[Any] = [
            {"start": iso(g.start), "end": iso(g.end), "cause": g.cause}
            if structured
            else f"{g.cause} {iso(g.start)}/{iso(g.end)}"
            for g in c.gaps
        ]
        share = None if c.share is None else round(c.share * 100, 2)
        fields[c.control.id] = {"continuity": share, "gaps": gaps}
    return fields


# -- integrity and retention -------------------------------------------------------------------


def verify(store: EvidenceStore) -> VerifyReport:
    """Recompute every seal, the chain, observations and manual evidence file hashes."""
    return store.verify_report()


def prunable(store: EvidenceStore, before: datetime, now: datetime) -> int:
    """How many records ``prune`` would delete; UserError for a cut-off in the future."""
    if before > now:
        raise UserError(
            f"--before {iso(before)} is in the future; nothing newer than now is pruned"
        )
    return store.prunable(before)


def prune(store: EvidenceStore, before: datetime, now: datetime) -> Tombstone | None:
    """Delete the records collected before ``before`` behind a tombstone (see storage)."""
    prunable(store, before, now)
    return store.prune(before, pruned_at=now)
