"""Control status: SoA + mapping + latest evidence + ``now`` -> one status per Annex A control.

A pure function: no I/O, no clock. ``now`` is a parameter.

Per control, every reason is recorded; the state shown is the worst one, in the order
FAILING > ERROR > STALE > NO_EVIDENCE > PASSING. NOT_APPLICABLE (SoA exclusion) and MANUAL
(no mapped check) end the evaluation. A control the SoA does not mention is evaluated as
applicable, with ``in_soa=False`` and one extra reason whose ``state`` repeats the computed state
(so it never changes the worst state) and whose ``check_id`` is None.
"""

from __future__ import annotations

import collections.abc as cabc
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from collector.catalogue import Catalogue, Control
from collector.mapping import Mapping
from collector.soa import Soa, SoaEntry

if TYPE_CHECKING:
    from storage.records import EvidenceSummary

__all__ = ["ControlState", "ControlStatus", "Reason", "evaluate", "summarise"]


class ControlState(StrEnum):
    """What the evidence says about one control."""

    NOT_APPLICABLE = "not_applicable"
    MANUAL = "manual"
    FAILING = "failing"
    ERROR = "error"
    STALE = "stale"
    NO_EVIDENCE = "no_evidence"
    PASSING = "passing"


# Worst first: the state shown for an evaluated control is the first one present.
SEVERITY_ORDER = (
    ControlState.FAILING,
    ControlState.ERROR,
    ControlState.STALE,
    ControlState.NO_EVIDENCE,
    ControlState.PASSING,
)


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
    at_risk_fraction: float = 0.8,
    stale_factor: float = 2.0,
) -> list[ControlStatus]:
    """Evaluate every catalogue control, in catalogue order.

    ``evidence`` holds the latest summary per (check, target); ``intervals`` each check's run
    interval. A check's maximum evidence age is the SoA entry's ``max_evidence_age`` if set, else
    ``stale_factor * interval``; with neither, its evidence is never judged stale.
    """
    latest: dict[str, dict[str, EvidenceSummary]] = {}
    for item in evidence:
        targets = latest.setdefault(item.check_id, {})
        known = targets.get(item.target_key)
        if known is None or item.collected_at > known.collected_at:
            targets[item.target_key] = item
    context = _Context(mapping, latest, intervals, now, at_risk_fraction, stale_factor)
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
    if not checks:
        reason = Reason(ControlState.MANUAL, None, None, "no automated check maps to this control")
        return result(ControlState.MANUAL, [reason])

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
    return result(
        state,
        reasons,
        at_risk=at_risk and state is ControlState.PASSING,
        last_evidence_at=max(collected, default=None),
        max_age=min(max_ages, default=None),
    )


def _max_age(check_id: str, entry: SoaEntry | None, ctx: _Context) -> timedelta | None:
    if entry is not None and entry.max_evidence_age is not None:
        return entry.max_evidence_age
    interval = ctx.intervals.get(check_id)
    return interval * ctx.stale_factor if interval is not None else None


def _judge(
    item: EvidenceSummary, max_age: timedelta | None, ctx: _Context
) -> tuple[list[Reason], bool]:
    """The reasons from one (check, target)'s latest evidence, and whether it nears max age."""
    found: list[Reason] = []
    check_id, target = item.check_id, item.target_key
    if item.status == "fail":
        found.append(Reason(ControlState.FAILING, check_id, target, item.summary or "failed"))
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
        message = item.summary or (
            "no resources in scope" if item.status == "not_applicable" else "passed"
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
