"""Control status: SoA + mapping + latest evidence + ``now`` -> one status per Annex A control.

A pure function: no I/O, no clock. ``now`` is a parameter.

Per control, every reason is recorded; the state shown is the worst one, in the order
FAILING > ERROR > STALE > NO_EVIDENCE > PASSING (= ATTESTED). NOT_APPLICABLE (SoA exclusion)
ends the evaluation.

Exceptions: a failing finding whose resource an active exception (at ``now``) covers counts as
accepted; a (check, target) whose failing findings are all accepted is PASSING, with a reason
naming the exceptions and their expiry. Staleness still applies to it.

Manual evidence: a control no automated check maps to is ATTESTED while its governing manual
item (the newest upload at or before ``now``) is inside its validity window (AT_RISK in the
last ``1 - at_risk_fraction`` of it), STALE after ``valid_until``, MANUAL before any upload. A
control WITH automated checks lists its governing manual item among its reasons (state
ATTESTED, or MANUAL once expired) but its state comes from the automated evidence only.

A control the SoA does not mention is evaluated as applicable, with ``in_soa=False`` and one
extra reason whose ``state`` repeats the computed state (so it never changes the worst state)
and whose ``check_id`` is None.
"""

from __future__ import annotations

import collections.abc as cabc
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from collector.catalogue import Catalogue, Control
from collector.exceptions import accepting, describe
from collector.manual import governing
from collector.mapping import Mapping
from collector.soa import Soa, SoaEntry

if TYPE_CHECKING:
    from storage.records import EvidenceSummary, ManualEvidence, RiskException

__all__ = [
    "GOOD_STATES",
    "SEVERITY_ORDER",
    "ControlState",
    "ControlStatus",
    "Reason",
    "attestation_state",
    "evaluate",
    "evidence_state",
    "max_age_for",
    "summarise",
]


class ControlState(StrEnum):
    """What the evidence says about one control."""

    NOT_APPLICABLE = "not_applicable"
    MANUAL = "manual"
    FAILING = "failing"
    ERROR = "error"
    STALE = "stale"
    NO_EVIDENCE = "no_evidence"
    PASSING = "passing"
    ATTESTED = "attested"  # manual evidence inside its validity window; ranks like PASSING


# Worst first: the state shown for an evaluated control is the first one present. ATTESTED
# ranks with PASSING (last): both mean "fresh evidence that the control operates".
SEVERITY_ORDER = (
    ControlState.FAILING,
    ControlState.ERROR,
    ControlState.STALE,
    ControlState.NO_EVIDENCE,
    ControlState.PASSING,
    ControlState.ATTESTED,
)
GOOD_STATES = frozenset({ControlState.PASSING, ControlState.ATTESTED})


@dataclass(frozen=True)
class Reason:
    """One observation behind a control's state (per check and target where it applies)."""

    state: ControlState
    check_id: str | None
    target_key: str | None
    message: str


@dataclass(frozen=True)
class ControlStatus:
    """The evaluated state of one control, with every reason behind it."""

    control: Control
    state: ControlState
    reasons: tuple[Reason, ...]
    at_risk: bool
    in_soa: bool
    owner: str
    justification: str
    checks: tuple[str, ...]
    last_evidence_at: datetime | None
    max_age: timedelta | None  # the tightest maximum evidence age among the mapped checks


def evaluate(
    catalogue: Catalogue,
    soa: Soa | None,
    mapping: Mapping,
    evidence: Iterable[EvidenceSummary],
    intervals: cabc.Mapping[str, timedelta],
    now: datetime,
    *,
    manual: Iterable[ManualEvidence] = (),
    exceptions: Iterable[RiskException] = (),
    at_risk_fraction: float = 0.8,
    stale_factor: float = 2.0,
) -> list[ControlStatus]:
    """Evaluate every catalogue control, in catalogue order.

    ``evidence`` holds the latest summary per (check, target); ``intervals`` each check's run
    interval. A check's maximum evidence age is the SoA entry's ``max_evidence_age`` if set, else
    ``stale_factor * interval``; with neither, its evidence is never judged stale. ``manual``
    and ``exceptions`` may hold the whole history: what applies at ``now`` is chosen here.
    """
    latest: dict[str, dict[str, EvidenceSummary]] = {}
    for item in evidence:
        targets = latest.setdefault(item.check_id, {})
        known = targets.get(item.target_key)
        if known is None or item.collected_at > known.collected_at:
            targets[item.target_key] = item
    items: dict[str, list[ManualEvidence]] = {}
    for manual_item in manual:
        items.setdefault(manual_item.control_id, []).append(manual_item)
    context = _Context(
        mapping,
        latest,
        intervals,
        now,
        at_risk_fraction,
        stale_factor,
        items,
        tuple(exceptions),
    )
    return [_evaluate_control(control, soa, context) for control in catalogue.controls]


def summarise(statuses: Iterable[ControlStatus]) -> dict[ControlState, int]:
    """State -> number of controls, for every state (zeros included), in enum order."""
    counts = dict.fromkeys(ControlState, 0)
    for status in statuses:
        counts[status.state] += 1
    return counts


@dataclass(frozen=True)
class _Context:
    mapping: Mapping
    latest: dict[str, dict[str, EvidenceSummary]]
    intervals: cabc.Mapping[str, timedelta]
    now: datetime
    at_risk_fraction: float
    stale_factor: float
    manual: dict[str, list[ManualEvidence]]
    exceptions: tuple[RiskException, ...]


def _evaluate_control(control: Control, soa: Soa | None, ctx: _Context) -> ControlStatus:
    entry: SoaEntry | None = soa.entry(control.id) if soa is not None else None
    in_soa = soa is None or entry is not None
    owner = entry.owner if entry else ""
    justification = entry.justification if entry else ""
    checks = ctx.mapping.checks_for(control.id)

    def result(state: ControlState, reasons: list[Reason], **extra: object) -> ControlStatus:
        if not in_soa:
            reasons.append(
                Reason(
                    state,
                    None,
                    None,
                    "not in the Statement of Applicability; evaluated as applicable",
                )
            )
        fields: dict = {"at_risk": False, "last_evidence_at": None, "max_age": None, **extra}
        return ControlStatus(
            control=control,
            state=state,
            reasons=tuple(reasons),
            in_soa=in_soa,
            owner=owner,
            justification=justification,
            checks=checks,
            **fields,
        )

    if entry is not None and not entry.applicable:
        why = f"excluded by the SoA: {entry.justification}"
        reason = Reason(ControlState.NOT_APPLICABLE, None, None, why)
        return result(ControlState.NOT_APPLICABLE, [reason])
    attestation = governing(ctx.manual.get(control.id, ()), ctx.now)
    if not checks:
        manual_state, manual_reasons, manual_extra = _manual_state(attestation, ctx)
        return result(manual_state, manual_reasons, **manual_extra)

    reasons: list[Reason] = []
    at_risk = False
    max_ages: list[timedelta] = []
    collected: list[datetime] = []
    for check_id in checks:
        max_age = _max_age(check_id, entry, ctx)
        if max_age is not None:
            max_ages.append(max_age)
        targets = ctx.latest.get(check_id, {})
        if not targets:
            never = Reason(ControlState.NO_EVIDENCE, check_id, None, "the check has never run")
            reasons.append(never)
            continue
        for target_key in sorted(targets):
            item = targets[target_key]
            collected.append(item.collected_at)
            found, near = _judge(item, max_age, ctx)
            reasons.extend(found)
            at_risk = at_risk or near

    state = next(
        s for s in SEVERITY_ORDER if s is ControlState.PASSING or any(r.state is s for r in reasons)
    )
    if attestation is not None:  # listed, never changes the automated state
        manual_state, manual_reasons, _ = _manual_state(attestation, ctx)
        listed = ControlState.ATTESTED if manual_state is ControlState.ATTESTED else None
        reasons.extend(replace(r, state=listed or ControlState.MANUAL) for r in manual_reasons)
    return result(
        state,
        reasons,
        at_risk=at_risk and state is ControlState.PASSING,
        last_evidence_at=max(collected, default=None),
        max_age=min(max_ages, default=None),
    )


def _max_age(check_id: str, entry: SoaEntry | None, ctx: _Context) -> timedelta | None:
    return max_age_for(check_id, entry, ctx.intervals, ctx.stale_factor)


def max_age_for(
    check_id: str,
    entry: SoaEntry | None,
    intervals: cabc.Mapping[str, timedelta],
    stale_factor: float,
) -> timedelta | None:
    """A check's maximum evidence age for a control: the SoA's, else ``stale_factor`` times
    the check's interval, else None (never stale)."""
    if entry is not None and entry.max_evidence_age is not None:
        return entry.max_evidence_age
    interval = intervals.get(check_id)
    return interval * stale_factor if interval is not None else None


def _manual_state(
    item: ManualEvidence | None, ctx: _Context
) -> tuple[ControlState, list[Reason], dict[str, object]]:
    """State, reasons and extra fields of a control judged by its governing manual item."""
    if item is None:
        reason = Reason(ControlState.MANUAL, None, None, "no automated check maps to this control")
        return ControlState.MANUAL, [reason], {}
    what = f"manual evidence {item.file_name} (sha256 {item.sha256[:12]}, #{item.id})"
    extra: dict[str, object] = {
        "last_evidence_at": item.uploaded_at,
        "max_age": item.valid_until - item.valid_from,
    }
    until = item.valid_until.isoformat(timespec="seconds")
    if ctx.now < item.valid_from:
        message = f"{what} is valid only from {item.valid_from.isoformat(timespec='seconds')}"
        return ControlState.MANUAL, [Reason(ControlState.MANUAL, None, None, message)], extra
    if ctx.now > item.valid_until:
        message = f"{what} expired at {until}"
        return ControlState.STALE, [Reason(ControlState.STALE, None, None, message)], extra
    window = item.valid_until - item.valid_from
    near = ctx.now >= item.valid_from + window * ctx.at_risk_fraction
    message = f"{what} by {item.uploaded_by}, valid until {until}" + (
        " (nearing the end of its validity)" if near else ""
    )
    extra["at_risk"] = near
    return ControlState.ATTESTED, [Reason(ControlState.ATTESTED, None, None, message)], extra


def _judge(
    item: EvidenceSummary, max_age: timedelta | None, ctx: _Context
) -> tuple[list[Reason], bool]:
    """The reasons from one (check, target)'s latest evidence, and whether it nears max age."""
    found: list[Reason] = []
    check_id, target = item.check_id, item.target_key
    accepted_note = ""
    if item.status == "fail":
        failing = item.failing_resources
        accepted = accepting(ctx.exceptions, check_id, target, failing, ctx.now)
        if failing and len(accepted) == len(failing):
            accepted_note = (
                f"{len(failing)} finding{'s' if len(failing) != 1 else ''} accepted by "
                f"{describe(accepted.values())}"
            )
        else:
            message = item.summary or "failed"
            if accepted:
                message += (
                    f" ({len(accepted)} of {len(failing)} failing findings accepted by "
                    f"{describe(accepted.values())})"
                )
            found.append(Reason(ControlState.FAILING, check_id, target, message))
    elif item.status == "error":
        cause = item.error or item.summary or "the check could not be evaluated"
        found.append(Reason(ControlState.ERROR, check_id, target, cause))
    near = False
    if max_age is not None and item.last_conclusive_at is not None:
        age = ctx.now - item.last_conclusive_at
        if age > max_age:
            message = f"last conclusive evidence is {_human(age)} old (maximum {_human(max_age)})"
            found.append(Reason(ControlState.STALE, check_id, target, message))
        elif age >= max_age * ctx.at_risk_fraction:
            near = True
    if not found:
        message = (
            accepted_note
            or item.summary
            or ("no resources in scope" if item.status == "not_applicable" else "passed")
        )
        if near:
            message += f" (evidence nearing its maximum age of {_human(max_age)})"
        found.append(Reason(ControlState.PASSING, check_id, target, message))
    return found, near


def _human(delta: timedelta | None) -> str:
    """``2d 3h``, ``45m``, ``12s``: the two largest non-zero units."""
    if delta is None:
        return "unknown"
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return " ".join(parts[:2])


def evidence_state(
    item: EvidenceSummary,
    max_age: timedelta | None,
    now: datetime,
    exceptions: tuple[RiskException, ...] = (),
) -> ControlState:
    """The worst state one (check, target)'s latest evidence gives at ``now`` (as ``evaluate``
    judges it, exceptions included)."""
    found, _ = _judge(item, max_age, _bare_context(now, exceptions))
    return next(s for s in SEVERITY_ORDER if any(r.state is s for r in found))


def attestation_state(item: ManualEvidence | None, now: datetime) -> ControlState:
    """The state a control without automated checks has at ``now`` from its governing item."""
    return _manual_state(item, _bare_context(now, ()))[0]


def _bare_context(now: datetime, exceptions: tuple[RiskException, ...]) -> _Context:
    return _Context(Mapping({}), {}, {}, now, 0.8, 2.0, {}, exceptions)
