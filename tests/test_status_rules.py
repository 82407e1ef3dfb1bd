"""evaluate()'s rules with a pinned ``now``: scope, nothing in scope, accepted risk,
supporting versus sufficient evidence, newest evidence, tightest maximum age; and continuity
agreeing with evaluate() on them."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from collector.catalogue import Catalogue, load_catalogue
from collector.continuity import Gap, continuity
from collector.mapping import Mapping, Pair, Strength
from collector.status import ControlState, Scope, combine, evaluate
from storage import ManualEvidence, RiskException
from tests.test_status import EU, HOUR, NOW, US, entry, ev, soa_of

S3 = "aws.s3.public_access_blocked"
RDS = "aws.rds.multi_az"
BLOB = "azure.storage.public_blob_access_disabled"
TRAIL = "aws.cloudtrail.log_file_validation"
SUFFICIENT, SUPPORTING = Strength.SUFFICIENT, Strength.SUPPORTING
MAPPING = Mapping(
    {
        S3: {"A.8.3": Pair(SUFFICIENT, "s3"), "A.8.12": Pair(SUPPORTING, "leak")},
        BLOB: {"A.8.3": Pair(SUFFICIENT, "blob"), "A.8.12": Pair(SUPPORTING, "leak")},
        RDS: {"A.8.14": Pair(SUFFICIENT, "multi-az"), "A.8.3": Pair(SUFFICIENT, "rds")},
        TRAIL: {"A.5.28": Pair(SUPPORTING, "digests")},
    }
)
INTERVALS = {S3: 6 * HOUR, BLOB: 6 * HOUR, RDS: 6 * HOUR, TRAIL: 12 * HOUR}
PROVIDERS = {S3: "aws", RDS: "aws", TRAIL: "aws", BLOB: "azure"}
AWS_ONLY = Scope(frozenset({S3, RDS, TRAIL}), PROVIDERS)
X = ControlState


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def judge(catalogue, evidence, *, scope=AWS_ONLY, now=NOW, soa=None, **kw):
    statuses = evaluate(catalogue, soa, MAPPING, evidence, INTERVALS, now, scope=scope, **kw)
    return {s.control.id: s for s in statuses}


def manual(control: str, *, uploaded: float = -2, valid_for: float = 24, id_: int = 1):
    at = NOW + uploaded * HOUR
    return ManualEvidence(
        id=id_,
        control_id=control,
        sha256="ab" * 32,
        file_name="process.pdf",
        size=1,
        media_type="application/pdf",
        note="",
        uploaded_at=at,
        valid_from=at,
        valid_until=at + valid_for * HOUR,
        uploaded_by="alice",
    )


def failing(check: str, *resources: str, target: str = EU, age: timedelta = HOUR):
    return dataclasses.replace(
        ev(check, "fail", target=target, age=age, summary=f"{len(resources)} public"),
        failing_resources=resources,
        failed=len(resources),
    )


def exception(check: str = S3, **kw: object) -> RiskException:
    values = {
        "check_id": check,
        "resource_pattern": "arn:aws:s3:::legacy*",
        "target_pattern": "*",
        "reason": "migration ends in June",
        "approved_by": "Head of Risk",
        "created_at": NOW - 10 * HOUR,
        "expires_at": NOW + 10 * HOUR,
        "created_by": "alice",
        **kw,
    }
    return RiskException(id=7, **values)  # type: ignore[arg-type]


# -- scope ----------------------------------------------------------------------------------


def test_out_of_scope_checks_neither_count_nor_block(catalogue: Catalogue) -> None:
    evidence = [ev(S3), ev(RDS), failing(BLOB, "https://acct.blob/c")]
    a83 = judge(catalogue, evidence)["A.8.3"]
    assert a83.state is X.PASSING and a83.checks == (RDS, S3)
    assert not any("azure" in r.message or r.check_id == BLOB for r in a83.reasons)
    # the same evidence judged with azure in scope: its failure and the control fails
    everything = Scope(frozenset(PROVIDERS), PROVIDERS)
    assert judge(catalogue, evidence, scope=everything)["A.8.3"].state is X.FAILING


def test_control_with_every_check_out_of_scope_is_manual_naming_providers(catalogue) -> None:
    only_rds = Scope(frozenset({RDS}), PROVIDERS)
    status = judge(catalogue, [ev(S3)], scope=only_rds)["A.8.12"]
    assert status.state is X.MANUAL and status.checks == ()
    [reason] = status.reasons
    assert reason.message.startswith("no mapped check is in scope: aws or azure checks could")
    attested = judge(catalogue, [], scope=only_rds, manual=[manual("A.8.12")])["A.8.12"]
    assert attested.state is X.ATTESTED
    assert "no mapped check is in scope" in attested.reasons[0].message


def test_a_target_removed_from_scope_leaves_status(catalogue: Catalogue) -> None:
    evidence = [ev(S3, target=EU), ev(RDS, target=EU), failing(S3, "arn:x", target=US)]
    assert judge(catalogue, evidence)["A.8.3"].state is X.FAILING
    eu_only = dataclasses.replace(AWS_ONLY, targets=frozenset({EU}))
    status = judge(catalogue, evidence, scope=eu_only)["A.8.3"]
    assert status.state is X.PASSING
    assert all(r.target_key != US for r in status.reasons)


def test_an_in_scope_check_that_never_ran_is_no_evidence(catalogue: Catalogue) -> None:
    status = judge(catalogue, [ev(S3)])["A.8.3"]
    assert status.state is X.NO_EVIDENCE
    assert [r.check_id for r in status.reasons if r.state is X.NO_EVIDENCE] == [RDS]


# -- nothing in scope -----------------------------------------------------------------------


def test_nothing_to_judge_is_never_passing(catalogue: Catalogue) -> None:
    empty = ev(RDS, "not_applicable", summary="0 DB instances")
    status = judge(catalogue, [empty])["A.8.14"]
    assert status.state is X.MANUAL
    messages = [r.message for r in status.reasons]
    assert messages[0] == "nothing to judge: 0 DB instances"
    assert "found nothing to judge: it needs valid manual evidence" in messages[1]
    assert messages[2] == "no manual evidence uploaded"
    with_manual = judge(catalogue, [empty], manual=[manual("A.8.14")])["A.8.14"]
    assert with_manual.state is X.ATTESTED
    expired = judge(catalogue, [empty], manual=[manual("A.8.14", uploaded=-30)])["A.8.14"]
    assert expired.state is X.STALE


def test_nothing_beside_sufficient_passing_evidence_passes(catalogue: Catalogue) -> None:
    evidence = [ev(S3), ev(RDS, "not_applicable", summary="0 DB instances")]
    assert judge(catalogue, evidence)["A.8.3"].state is X.PASSING


# -- accepted risk --------------------------------------------------------------------------


def test_accepted_ranks_between_failing_and_passing(catalogue: Catalogue) -> None:
    legacy = failing(S3, "arn:aws:s3:::legacy-1")
    accepted = judge(catalogue, [legacy, ev(RDS)], exceptions=[exception()])["A.8.3"]
    assert accepted.state is X.ACCEPTED
    [reason] = [r for r in accepted.reasons if r.state is X.ACCEPTED]
    assert reason.message == (
        "1 failing finding accepted by exception #7 (approved by Head of Risk, expires "
        f"{(NOW + 10 * HOUR).isoformat()}: migration ends in June)"
    )
    assert [e.id for e in accepted.exceptions] == [7]
    worse = [legacy, failing(RDS, "arn:db")]
    assert judge(catalogue, worse, exceptions=[exception()])["A.8.3"].state is X.FAILING
    stale = [legacy, ev(RDS, age=13 * HOUR)]
    assert judge(catalogue, stale, exceptions=[exception()])["A.8.3"].state is X.STALE


def test_accepted_then_failing_after_expiry(catalogue: Catalogue) -> None:
    evidence = [failing(S3, "arn:aws:s3:::legacy-1"), ev(RDS)]
    recent = exception(created_at=NOW - HOUR / 2)
    states = [
        judge(catalogue, evidence, exceptions=[recent], now=NOW + h * HOUR)["A.8.3"].state
        for h in (-0.75, 0, 9.9, 10)
    ]
    # before the exception existed, while active, and once it expired (expiry is exclusive)
    assert states == [X.FAILING, X.ACCEPTED, X.ACCEPTED, X.FAILING]


# -- supporting versus sufficient -----------------------------------------------------------


def test_supporting_only_needs_manual_evidence(catalogue: Catalogue) -> None:
    alone = judge(catalogue, [ev(TRAIL)])["A.5.28"]
    assert alone.state is X.MANUAL
    assert any("only support this control" in r.message for r in alone.reasons)
    assert any(r.message == "no manual evidence uploaded" for r in alone.reasons)
    both = judge(catalogue, [ev(TRAIL)], manual=[manual("A.5.28")])["A.5.28"]
    assert both.state is X.PASSING
    expired = judge(catalogue, [ev(TRAIL)], manual=[manual("A.5.28", uploaded=-30)])["A.5.28"]
    assert expired.state is X.STALE
    broken = judge(catalogue, [ev(TRAIL, "fail")], manual=[manual("A.5.28")])["A.5.28"]
    assert broken.state is X.FAILING


def test_supporting_accepted_with_manual_is_accepted(catalogue: Catalogue) -> None:
    legacy = failing(S3, "arn:aws:s3:::legacy-1")
    without = judge(catalogue, [legacy], exceptions=[exception()])["A.8.12"]
    assert without.state is X.MANUAL
    status = judge(catalogue, [legacy], exceptions=[exception()], manual=[manual("A.8.12")])
    assert status["A.8.12"].state is X.ACCEPTED


def test_one_sufficient_pair_carries_the_control(catalogue: Catalogue) -> None:
    # A.8.3: S3 and RDS both sufficient; make S3 supporting by override: RDS still carries it
    mapping = Mapping(
        {
            **{c: MAPPING.controls_for(c) for c in (RDS, TRAIL, BLOB)},
            S3: {"A.8.3": Pair(SUPPORTING, "s")},
        }
    )
    statuses = evaluate(catalogue, None, mapping, [ev(S3), ev(RDS)], INTERVALS, NOW, scope=AWS_ONLY)
    assert {s.control.id: s for s in statuses}["A.8.3"].state is X.PASSING
    only_s3 = Scope(frozenset({S3}), PROVIDERS)
    statuses = evaluate(catalogue, None, mapping, [ev(S3)], INTERVALS, NOW, scope=only_s3)
    assert {s.control.id: s for s in statuses}["A.8.3"].state is X.MANUAL


@pytest.mark.parametrize(
    ("keys", "missing", "manual_state", "expected"),
    [
        ([(X.PASSING, SUFFICIENT), (X.FAILING, SUPPORTING)], False, X.ATTESTED, X.FAILING),
        ([(X.PASSING, SUFFICIENT)], True, X.ATTESTED, X.NO_EVIDENCE),
        ([(X.ERROR, SUFFICIENT), (X.STALE, SUFFICIENT)], False, X.MANUAL, X.ERROR),
        ([(X.ACCEPTED, SUFFICIENT), (X.PASSING, SUFFICIENT)], False, X.MANUAL, X.ACCEPTED),
        ([(X.PASSING, SUPPORTING)], False, X.MANUAL, X.MANUAL),
        ([(X.PASSING, SUPPORTING)], False, X.STALE, X.STALE),
        ([(X.PASSING, SUPPORTING)], False, X.ATTESTED, X.PASSING),
        ([(X.MANUAL, SUFFICIENT)], False, X.ATTESTED, X.ATTESTED),
        ([(X.MANUAL, SUFFICIENT), (X.PASSING, SUPPORTING)], False, X.MANUAL, X.MANUAL),
    ],
)
def test_combine(keys, missing, manual_state, expected) -> None:
    assert combine(keys, missing=missing, manual=manual_state) is expected


# -- newest evidence, tightest maximum age --------------------------------------------------


def test_newest_evidence_wins_when_fed_first(catalogue: Catalogue) -> None:
    newest_first = [ev(S3, age=HOUR), failing(S3, "arn:x", age=5 * HOUR), ev(RDS)]
    assert judge(catalogue, newest_first)["A.8.3"].state is X.PASSING
    failing_newest = [failing(S3, "arn:x", age=HOUR), ev(S3, age=5 * HOUR), ev(RDS)]
    assert judge(catalogue, failing_newest)["A.8.3"].state is X.FAILING


def test_smallest_max_age_wins_wherever_it_comes(catalogue: Catalogue) -> None:
    intervals = {S3: 2 * HOUR, RDS: 6 * HOUR}  # S3 (first in sort order) is the tightest
    statuses = evaluate(catalogue, None, MAPPING, [ev(S3), ev(RDS)], intervals, NOW, scope=AWS_ONLY)
    assert {s.control.id: s for s in statuses}["A.8.3"].max_age == 4 * HOUR
    soa = soa_of(catalogue, entry("A.8.3", max_evidence_age=3 * HOUR))
    assert judge(catalogue, [ev(S3, age=4 * HOUR), ev(RDS)], soa=soa)["A.8.3"].state is X.STALE


# -- continuity agrees ----------------------------------------------------------------------


def test_continuity_follows_scope_supporting_and_manual(catalogue: Catalogue) -> None:
    trail = [ev(TRAIL, age=-h * HOUR) for h in range(0, 24, 6)]  # NOW, +6h, +12h, +18h
    item = manual("A.5.28", uploaded=8, valid_for=8)  # valid from NOW+8h to NOW+16h
    found = continuity(
        catalogue,
        None,
        MAPPING,
        trail,
        INTERVALS,
        NOW,
        NOW + 24 * HOUR,
        scope=AWS_ONLY,
        manual=[item],
    )
    a528 = {c.control.id: c for c in found}["A.5.28"]
    assert a528.gaps == (
        Gap(NOW, NOW + 8 * HOUR, "no_evidence"),
        Gap(NOW + 16 * HOUR, NOW + 24 * HOUR, "stale"),
    )
    assert a528.share == 8 / 24
    at_12 = judge(catalogue, trail[:3], now=NOW + 12 * HOUR, manual=[item])["A.5.28"]
    assert at_12.state is X.PASSING
