"""Control status: SoA + mapping + scope + latest evidence + manual evidence + exceptions +
``now`` -> one status per Annex A control. The only implementation: CLI, daemon, export,
metrics and alerts all call :func:`evaluate`.

A pure function: no I/O, no clock. ``now`` is a parameter; every input is plain data.

Rules, per control (README "Control status" explains them to users):

- NOT_APPLICABLE: the SoA excludes it (with its justification); nothing else is judged.
- Scope: only mapped checks in ``scope`` count, and only their in-scope targets (a target
  removed from the config counts only for the time it existed, see ``retire``). A control
  with no in-scope check is judged by its manual evidence like a manual control; when checks
  outside the scope map to it, the reason names the providers that could evidence it.
- Per (check, target), the latest evidence gives FAILING (a failing finding no active exception
  covers), ERROR, STALE (older than the maximum age), ACCEPTED (every failing finding covered
  by an active exception), PASSING, or "nothing to judge" (no resources in scope; recorded as
  MANUAL at this level). An in-scope check without evidence for any in-scope target gives
  NO_EVIDENCE.
- The control shows the worst of FAILING > ERROR > STALE > NO_EVIDENCE. Otherwise the judged
  evidence (PASSING/ACCEPTED) carries the control when at least one of it comes from a
  ``sufficient`` pair: ACCEPTED if any failure was accepted, else PASSING.
- Otherwise (every judged pair is ``supporting``, or the checks found nothing to judge) the
  control needs manual evidence: the governing item inside its validity window makes it
  PASSING/ACCEPTED (with judged evidence) or ATTESTED (without); an expired item STALE; none
  MANUAL, with a reason saying what is missing.
- Manual evidence of a control carried by sufficient evidence is listed, never changes it.

AT_RISK is a flag beside a good state when evidence nears its maximum age. A control the SoA
does not mention is evaluated as applicable, with ``in_soa=False`` and one extra reason.
"""

from __future__ import annotations

import collections.abc as cabc
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from collector.catalogue import Catalogue, Control
from collector.exceptions import accepting, describe
from collector.manual import governing
from collector.mapping import Mapping, Strength
from collector.soa import Soa, SoaEntry

if TYPE_CHECKING:
    from storage.records import EvidenceSummary, ManualEvidence, RiskException

__all__ = [
    "GOOD_STATES",
    "SEVERITY_ORDER",
    "ControlState",
    "ControlStatus",
    "Reason",
    "Scope",
    "attestation_state",
    "combine",
    "evaluate",
    "evidence_state",
    "max_age_for",
    "retire",
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
    ACCEPTED = "accepted"  # every failure covered by an active exception (an accepted risk)
    PASSING = "passing"
    ATTESTED = "attested"  # manual evidence inside its validity window; ranks like PASSING


# Worst first: the state shown for an evaluated control is the first one present.
SEVERITY_ORDER = (
    ControlState.FAILING,
    ControlState.ERROR,
    ControlState.STALE,
    ControlState.NO_EVIDENCE,
    ControlState.MANUAL,
    ControlState.ACCEPTED,
    ControlState.PASSING,
    ControlState.ATTESTED,
)
GOOD_STATES = frozenset({ControlState.PASSING, ControlState.ATTESTED})
_BAD = (ControlState.FAILING, ControlState.ERROR, ControlState.STALE, ControlState.NO_EVIDENCE)
_JUDGED = frozenset({ControlState.PASSING, ControlState.ACCEPTED})


@dataclass(frozen=True)
class Scope:
    """Which evidence counts: the check ids in scope (configured providers, the config's
    ``checks`` / ``exclude_checks``, a command's ``--provider`` / ``--check``), every known
    check's provider (to name the providers that could evidence a control whose checks are all
    out of scope), and the targets in scope.

    Targets: ``targets`` (None: any) holds the exact target keys a run or the daemon resolved;
    ``accounts`` and ``regions`` hold, per provider, the accounts and regions the config names
    (a provider absent from them: any, e.g. AWS accounts reached through a profile or the
    default chain, whose ids only resolution tells). ``retired`` holds, per (check, target)
    outside them, the instant it stops counting (see :func:`retire`): a removed target counts
    for the time it existed, ``[first record, last record)``.
    """

    checks: frozenset[str]
    providers: cabc.Mapping[str, str] = field(default_factory=dict)
    targets: frozenset[str] | None = None
    accounts: cabc.Mapping[str, frozenset[str]] = field(default_factory=dict)
    regions: cabc.Mapping[str, frozenset[str]] = field(default_factory=dict)
    retired: cabc.Mapping[tuple[str, str], datetime] = field(default_factory=dict)

    @property
    def narrowed(self) -> bool:
        """Whether any target can fall outside this scope."""
        return self.targets is not None or bool(self.accounts) or bool(self.regions)

    def configured(self, target_key: str) -> bool:
        """Whether ``provider:account[:region]`` is one of the targets in scope."""
        if self.targets is not None and target_key not in self.targets:
            return False
        provider, _, rest = target_key.partition(":")
        accounts, regions = self.accounts.get(provider), self.regions.get(provider)
        if accounts is None:
            region = rest.partition(":")[2] or None  # account ids of these carry no colon
        else:  # an account may hold a colon (a Fleet server's host:port)
            match = next((a for a in accounts if rest == a or rest.startswith(f"{a}:")), None)
            if match is None:
                return False
            region = rest[len(match) + 1 :] or None
        return region is None or regions is None or region in regions

    def counts(self, check_id: str, target_key: str, at: datetime | None = None) -> bool:
        """Whether evidence of (check, target) counts at ``at`` (None: only configured ones)."""
        if check_id not in self.checks:
            return False
        if self.configured(target_key):
            return True
        until = self.retired.get((check_id, target_key))
        return until is not None and at is not None and at < until

    def counted_until(self, check_id: str, target_key: str) -> datetime | None:
        """When evidence of (check, target) stops counting: None never (an in-scope check on a
        target in scope), a removed target's retirement, ``datetime.min`` when it never counts."""
        if check_id not in self.checks:
            return _NEVER
        if self.configured(target_key):
            return None
        return self.retired.get((check_id, target_key), _NEVER)


_NEVER = datetime.min.replace(tzinfo=UTC)


def retire(scope: Scope, latest: Iterable[EvidenceSummary]) -> Scope:
    """``scope`` with each in-scope (check, target) outside it counted for the time it existed:
    from its first record up to its last one (``latest``: the newest evidence per (check,
    target), e.g. ``EvidenceStore.latest()``). When it left the config after that is unknown;
    its last verdict is not carried further, so a view of any instant and continuity over any
    period agree, and ``now`` is judged by the config alone."""
    if not scope.narrowed:
        return scope
    retired = {
        (item.check_id, item.target_key): item.collected_at
        for item in latest
        if item.check_id in scope.checks and not scope.configured(item.target_key)
    }
    return replace(scope, retired=retired)


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
    checks: tuple[str, ...]  # the mapped checks in scope
    last_evidence_at: datetime | None
    max_age: timedelta | None  # the tightest maximum evidence age among the mapped checks
    exceptions: tuple[RiskException, ...] = ()  # the active exceptions accepting its failures


def evaluate(
    catalogue: Catalogue,
    soa: Soa | None,
    mapping: Mapping,
    evidence: Iterable[EvidenceSummary],
    intervals: cabc.Mapping[str, timedelta],
    now: datetime,
    *,
    scope: Scope | None = None,
    manual: Iterable[ManualEvidence] = (),
    exceptions: Iterable[RiskException] = (),
    at_risk_fraction: float = 0.8,
    stale_factor: float = 2.0,
) -> list[ControlStatus]:
    """Evaluate every catalogue control, in catalogue order.

    ``evidence`` holds summaries per (check, target), in any order: the newest per key counts.
    ``intervals`` holds each check's run interval. A check's maximum evidence age is the SoA
    entry's ``max_evidence_age`` if set, else ``stale_factor * interval``; with neither, its
    evidence is never judged stale. ``scope`` None counts every mapped check. ``manual`` and
    ``exceptions`` may hold the whole history: what applies at ``now`` is chosen here.
    """
    latest: dict[str, dict[str, EvidenceSummary]] = {}
    for item in evidence:
        if scope is not None and not scope.counts(item.check_id, item.target_key, now):
            continue
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
        scope,
    )
    return [_evaluate_control(control, soa, context) for control in catalogue.controls]


def summarise(statuses: Iterable[ControlStatus]) -> dict[ControlState, int]:
    """State -> number of controls, for every state (zeros included), in enum order."""
    counts = dict.fromkeys(ControlState, 0)
    for status in statuses:
        counts[status.state] += 1
    return counts


def combine(
    keys: Collection[tuple[ControlState, Strength]],
    *,
    missing: bool,
    manual: ControlState,
) -> ControlState:
    """A control's state from its in-scope (check, target) states with each pair's strength,
    whether an in-scope check has no evidence yet, and its manual evidence's state (MANUAL,
    STALE or ATTESTED; see :func:`attestation_state`). The one rule ``evaluate`` and
    continuity share."""
    present = {state for state, _ in keys}
    if missing:
        present.add(ControlState.NO_EVIDENCE)
    for bad in _BAD:
        if bad in present:
            return bad
    judged = [(state, strength) for state, strength in keys if state in _JUDGED]
    automated = (
        ControlState.ACCEPTED
        if any(state is ControlState.ACCEPTED for state, _ in judged)
        else ControlState.PASSING
    )
    if any(strength is Strength.SUFFICIENT for _, strength in judged):
        return automated
    if manual is ControlState.ATTESTED:
        return automated if judged else ControlState.ATTESTED
    return manual  # STALE (expired) or MANUAL (missing)


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
    scope: Scope | None = None


def _evaluate_control(control: Control, soa: Soa | None, ctx: _Context) -> ControlStatus:
    entry: SoaEntry | None = soa.entry(control.id) if soa is not None else None
    in_soa = soa is None or entry is not None
    owner = entry.owner if entry else ""
    justification = entry.justification if entry else ""
    mapped = ctx.mapping.checks_for(control.id)
    checks = tuple(c for c in mapped if ctx.scope is None or c in ctx.scope.checks)

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
    manual_state, manual_reasons, manual_extra = _manual_state(attestation, ctx)
    if not checks:
        if attestation is None:
            manual_reasons = [_no_check_reason(mapped, ctx.scope)]
        elif mapped:
            manual_reasons.insert(
                0, replace(_no_check_reason(mapped, ctx.scope), state=manual_state)
            )
        return result(manual_state, manual_reasons, **manual_extra)

    reasons: list[Reason] = []
    keys: list[tuple[ControlState, Strength]] = []
    accepted_by: dict[int, RiskException] = {}
    missing = False
    at_risk = False
    max_ages: list[timedelta] = []
    collected: list[datetime] = []
    for check_id in checks:
        strength = ctx.mapping.pair(check_id, control.id).strength
        max_age = _max_age(check_id, entry, ctx)
        if max_age is not None:
            max_ages.append(max_age)
        targets = ctx.latest.get(check_id, {})
        if not targets:
            missing = True
            never = Reason(ControlState.NO_EVIDENCE, check_id, None, "the check has never run")
            reasons.append(never)
            continue
        for target_key in sorted(targets):
            item = targets[target_key]
            collected.append(item.collected_at)
            verdict = _judge(item, max_age, ctx)
            reasons.extend(verdict.reasons)
            keys.append((verdict.state, strength))
            accepted_by |= {e.id: e for e in verdict.exceptions}
            at_risk = at_risk or verdict.near

    state = combine(keys, missing=missing, manual=manual_state)
    judged = [strength for key_state, strength in keys if key_state in _JUDGED]
    carried = Strength.SUFFICIENT in judged
    if state in _BAD or carried:
        if attestation is not None:  # listed, never changes the automated state
            listed = ControlState.ATTESTED if manual_state is ControlState.ATTESTED else None
            reasons.extend(replace(r, state=listed or ControlState.MANUAL) for r in manual_reasons)
    else:
        reasons.append(_needs_manual_reason(state, bool(judged)))
        reasons.extend(manual_reasons)
        at_risk = at_risk or bool(manual_extra.get("at_risk"))
    return result(
        state,
        reasons,
        at_risk=at_risk and state in (*GOOD_STATES, ControlState.ACCEPTED),
        last_evidence_at=max(collected, default=None),
        max_age=min(max_ages, default=None),
        exceptions=tuple(accepted_by[i] for i in sorted(accepted_by)),
    )


def _no_check_reason(mapped: tuple[str, ...], scope: Scope | None) -> Reason:
    if not mapped:
        return Reason(ControlState.MANUAL, None, None, "no automated check maps to this control")
    providers = sorted({scope.providers.get(c, c.split(".")[0]) for c in mapped}) if scope else []
    message = (
        f"no mapped check is in scope: {' or '.join(providers)} checks could evidence it if "
        "configured and selected; until then it needs manual evidence"
    )
    return Reason(ControlState.MANUAL, None, None, message)


def _needs_manual_reason(state: ControlState, judged: bool) -> Reason:
    message = (
        "the in-scope checks only support this control: it also needs valid manual evidence"
        if judged
        else "the automated checks found nothing to judge: it needs valid manual evidence, as "
        "a manual control does"
    )
    return Reason(state, None, None, message)


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
        reason = Reason(ControlState.MANUAL, None, None, "no manual evidence uploaded")
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


@dataclass(frozen=True)
class _Verdict:
    """What one (check, target)'s latest evidence says at ``now``."""

    state: ControlState  # MANUAL: no resources in scope, nothing to judge
    reasons: list[Reason]
    near: bool
    exceptions: tuple[RiskException, ...] = ()


def _decide(
    item: EvidenceSummary,
    max_age: timedelta | None,
    now: datetime,
    exceptions: tuple[RiskException, ...],
    at_risk_fraction: float,
) -> tuple[ControlState, dict[str, RiskException], bool, bool]:
    """The state one (check, target)'s latest evidence gives at ``now``: the worst of failing
    (unless every failing resource is accepted), error and stale, else passing, accepted or
    manual (nothing to judge); with the exceptions accepting its failing resources, whether it
    is stale, and whether it nears its maximum age (only when nothing is wrong)."""
    state = ControlState.PASSING
    wrong: list[ControlState] = []
    accepted: dict[str, RiskException] = {}
    if item.status == "fail":
        failing = item.failing_resources
        accepted = accepting(exceptions, item.check_id, item.target_key, failing, now)
        if failing and len(accepted) == len(failing):
            state = ControlState.ACCEPTED
        else:
            wrong.append(ControlState.FAILING)
    elif item.status == "error":
        wrong.append(ControlState.ERROR)
    elif item.status == "not_applicable":
        state = ControlState.MANUAL
    stale = near = False
    if max_age is not None and item.last_conclusive_at is not None:
        age = now - item.last_conclusive_at
        stale = age > max_age
        near = not stale and age >= max_age * at_risk_fraction
    if stale:
        wrong.append(ControlState.STALE)
    if wrong:
        return next(s for s in SEVERITY_ORDER if s in wrong), accepted, stale, False
    return state, accepted, stale, near


def _judge(item: EvidenceSummary, max_age: timedelta | None, ctx: _Context) -> _Verdict:
    """The verdict of one (check, target)'s latest evidence (``_decide``) with its reasons."""
    state, accepted, stale, near = _decide(
        item, max_age, ctx.now, ctx.exceptions, ctx.at_risk_fraction
    )
    found: list[Reason] = []
    check_id, target = item.check_id, item.target_key
    message = item.summary or "passed"
    used: tuple[RiskException, ...] = ()
    if item.status == "fail":
        failing = item.failing_resources
        if failing and len(accepted) == len(failing):
            used = tuple(accepted.values())
            message = (
                f"{len(failing)} failing finding{'s' if len(failing) != 1 else ''} accepted by "
                f"{describe(used)}"
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
    elif item.status == "not_applicable":
        message = f"nothing to judge: {item.summary or 'no resources in scope'}"
    if stale:
        age = ctx.now - item.last_conclusive_at  # type: ignore[operator]
        text = f"last conclusive evidence is {_human(age)} old (maximum {_human(max_age)})"
        found.append(Reason(ControlState.STALE, check_id, target, text))
    if found:
        return _Verdict(state, found, False)
    if near:
        message += f" (evidence nearing its maximum age of {_human(max_age)})"
    return _Verdict(state, [Reason(state, check_id, target, message)], near, used)


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
    """The state one (check, target)'s latest evidence gives at ``now``, as ``evaluate`` judges
    it (exceptions included; MANUAL: nothing to judge)."""
    return _decide(item, max_age, now, exceptions, 0.8)[0]


def attestation_state(item: ManualEvidence | None, now: datetime) -> ControlState:
    """The state a control judged by manual evidence has at ``now`` from its governing item:
    MANUAL (none, or not yet valid), ATTESTED (inside its window) or STALE (expired)."""
    return _manual_state(item, _bare_context(now, ()))[0]


def _bare_context(now: datetime, exceptions: tuple[RiskException, ...]) -> _Context:
    return _Context(Mapping({}), {}, {}, now, 0.8, 2.0, {}, exceptions)
