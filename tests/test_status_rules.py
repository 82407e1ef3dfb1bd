"""evaluate()'s rules with a pinned ``now``: scope, nothing in scope, accepted risk,
supporting versus sufficient evidence, newest evidence, tightest maximum age; and continuity
agreeing with evaluate() on them."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from collector.catalogue import Catalogue, load_catalogue
from collector.continuity import Gap, continuity
from collector.mapping import Mapping, Pair, Strength
from collector.status import (
    ControlState,
    Reason,
    Scope,
    attestation_state,
    combine,
    evaluate,
    evidence_state,
    retire,
)
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
SECOND = timedelta(seconds=1)


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


KEPT, GONE = "aws:111111111111", "aws:222222222222"


def test_scope_counts_the_targets_the_config_names() -> None:
    """Accounts and regions per provider, exact target keys, and other providers untouched."""
    by_account = Scope(frozenset({S3}), accounts={"aws": frozenset({"111111111111"})})
    assert by_account.narrowed and not Scope(frozenset({S3})).narrowed
    assert by_account.counts(S3, f"{KEPT}:eu-west-1") and by_account.counts(S3, KEPT)
    assert not by_account.counts(S3, f"{GONE}:eu-west-1")
    assert not by_account.counts(S3, "aws:1111111111119:eu-west-1")  # a longer id, not a prefix
    assert by_account.counts(S3, "azure:t1:s1")  # a provider the config does not narrow
    assert not by_account.counts(RDS, f"{KEPT}:eu-west-1")  # a check out of scope
    by_region = Scope(frozenset({S3}), regions={"aws": frozenset({"us-east-1"})})
    assert by_region.narrowed
    assert by_region.counts(S3, f"{GONE}:us-east-1") and by_region.counts(S3, GONE)  # global
    assert not by_region.counts(S3, f"{KEPT}:eu-west-1")
    both = Scope(
        frozenset({S3}),
        accounts={"aws": frozenset({"111111111111"})},
        regions={"aws": frozenset({"us-east-1"})},
    )
    assert both.counts(S3, f"{KEPT}:us-east-1")
    assert not both.counts(S3, f"{KEPT}:eu-west-1") and not both.counts(S3, f"{GONE}:us-east-1")
    exact = Scope(frozenset({S3}), targets=frozenset({f"{KEPT}:eu-west-1"}))
    assert exact.narrowed and exact.counts(S3, f"{KEPT}:eu-west-1")
    assert not exact.counts(S3, f"{KEPT}:us-east-1")


def test_scope_reads_an_account_holding_a_colon() -> None:
    """A Fleet server's account is ``host:port``; its region, if any, follows it."""
    fleet = "fleet.hosts.disk_encrypted"
    accounts = {"fleet": frozenset({"fleet.example.com:8443"})}
    scope = Scope(frozenset({fleet}), accounts=accounts)
    assert scope.counts(fleet, "fleet:fleet.example.com:8443")
    assert not scope.counts(fleet, "fleet:other.example.com:8443")
    regional = Scope(frozenset({fleet}), accounts=accounts, regions={"fleet": frozenset({"r1"})})
    assert regional.counts(fleet, "fleet:fleet.example.com:8443:r1")
    assert not regional.counts(fleet, "fleet:fleet.example.com:8443:r2")


def test_a_removed_target_counts_only_up_to_its_last_record() -> None:
    scope = Scope(frozenset({S3}), accounts={"aws": frozenset({"111111111111"})})
    last = NOW - 10 * HOUR
    newest = [
        dataclasses.replace(ev(S3, target=f"{KEPT}:eu-west-1"), collected_at=NOW - HOUR),
        dataclasses.replace(ev(S3, target=f"{GONE}:eu-west-1"), collected_at=last),
        dataclasses.replace(ev(RDS, target=f"{GONE}:eu-west-1"), collected_at=last),  # out of scope
    ]
    retired = retire(scope, newest)
    assert retired.retired == {(S3, f"{GONE}:eu-west-1"): last}
    assert retired.counts(S3, f"{GONE}:eu-west-1", last - HOUR)
    assert not retired.counts(S3, f"{GONE}:eu-west-1", last)  # its last record: gone from then
    assert not retired.counts(S3, f"{GONE}:eu-west-1")  # no instant: the config alone
    assert retired.counted_until(S3, f"{GONE}:eu-west-1") == last
    assert retired.counted_until(S3, f"{KEPT}:eu-west-1") is None  # counts for good
    never = datetime.min.replace(tzinfo=UTC)
    assert retired.counted_until(S3, "aws:333333333333:eu-west-1") == never  # never seen
    assert retired.counted_until(RDS, f"{KEPT}:eu-west-1") == never  # check out of scope
    everything = Scope(frozenset({S3}))
    assert retire(everything, newest) is everything  # nothing can fall outside it


def test_one_targets_state_as_evaluate_judges_it() -> None:
    """``evidence_state`` and ``attestation_state``: what continuity and timelines use."""
    assert evidence_state(ev(S3, age=13 * HOUR), 12 * HOUR, NOW) is X.STALE
    assert evidence_state(ev(S3, age=13 * HOUR), None, NOW) is X.PASSING  # no maximum age
    legacy = failing(S3, "arn:aws:s3:::legacy-1")
    assert evidence_state(legacy, 12 * HOUR, NOW) is X.FAILING
    assert evidence_state(legacy, 12 * HOUR, NOW, (exception(),)) is X.ACCEPTED
    assert evidence_state(ev(S3, "not_applicable"), None, NOW) is X.MANUAL
    item = manual("A.5.1")  # valid from 2h ago for 24h
    assert attestation_state(None, NOW) is X.MANUAL
    assert attestation_state(item, NOW - 3 * HOUR) is X.MANUAL  # not valid yet
    assert attestation_state(item, NOW) is X.ATTESTED
    assert attestation_state(item, NOW + 23 * HOUR) is X.STALE  # expired


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


# -- what the reasons say -------------------------------------------------------------------


def test_reasons_say_what_happened_when_the_evidence_says_little(catalogue: Catalogue) -> None:
    """Evidence without a summary or error still gets a reason a reader understands."""
    bare = {
        status: dataclasses.replace(ev(RDS, status), summary="", error=None)
        for status in ("pass", "fail", "error", "not_applicable")
    }

    def reasons(item) -> list[tuple[X, str | None, str]]:
        found = judge(catalogue, [item])["A.8.14"].reasons
        return [(r.state, r.target_key, r.message) for r in found if r.check_id == RDS]

    assert reasons(bare["pass"]) == [(X.PASSING, EU, "passed")]
    assert reasons(bare["fail"]) == [(X.FAILING, EU, "failed")]
    assert reasons(bare["error"]) == [(X.ERROR, EU, "the check could not be evaluated")]
    nothing = [(X.MANUAL, EU, "nothing to judge: no resources in scope")]
    assert reasons(bare["not_applicable"]) == nothing
    assert judge(catalogue, [bare["not_applicable"]])["A.8.14"].reasons[1] == Reason(
        X.MANUAL,
        None,
        None,
        "the automated checks found nothing to judge: it needs valid manual evidence, as a "
        "manual control does",
    )
    supporting = judge(catalogue, [ev(TRAIL)])["A.5.28"].reasons
    assert supporting[1] == Reason(
        X.MANUAL,
        None,
        None,
        "the in-scope checks only support this control: it also needs valid manual evidence",
    )


def test_accepted_findings_are_counted_in_the_reason(catalogue: Catalogue) -> None:
    accepted_by = (
        f"exception #7 (approved by Head of Risk, expires {(NOW + 10 * HOUR).isoformat()}: "
        "migration ends in June)"
    )
    both = failing(S3, "arn:aws:s3:::legacy-1", "arn:aws:s3:::legacy-2")
    accepted = judge(catalogue, [both, ev(RDS)], exceptions=[exception()])["A.8.3"]
    [reason] = [r for r in accepted.reasons if r.check_id == S3]
    assert reason.message == f"2 failing findings accepted by {accepted_by}"
    partly = failing(S3, "arn:aws:s3:::legacy-1", "arn:aws:s3:::prod")
    status = judge(catalogue, [partly, ev(RDS)], exceptions=[exception()])["A.8.3"]
    assert status.state is X.FAILING
    [reason] = [r for r in status.reasons if r.check_id == S3]
    assert reason.message == f"2 public (1 of 2 failing findings accepted by {accepted_by})"


@pytest.mark.parametrize(
    ("age", "max_age", "expected"),
    [
        (24 * HOUR, None, "1d old (maximum 12h)"),
        (2 * 24 * HOUR + 3 * HOUR + 5 * 60 * SECOND, None, "2d 3h old (maximum 12h)"),
        (50 * 60 * SECOND + 12 * SECOND, 45 * 60 * SECOND, "50m 12s old (maximum 45m)"),
        (61 * SECOND, 59 * SECOND, "1m 1s old (maximum 59s)"),
        (2 * SECOND, SECOND, "2s old (maximum 1s)"),
    ],
)
def test_staleness_is_told_in_the_two_largest_units(catalogue, age, max_age, expected) -> None:
    soa = soa_of(catalogue, entry("A.8.14", max_evidence_age=max_age)) if max_age else None
    status = judge(catalogue, [ev(RDS, age=age)], soa=soa)["A.8.14"]
    assert status.state is X.STALE
    assert status.reasons[0].message == f"last conclusive evidence is {expected}"


def test_what_a_control_without_judged_evidence_says(catalogue: Catalogue) -> None:
    """The exact reasons of a manual control, a check that never ran, a control outside the
    SoA or excluded by it, and checks all out of scope (providers named from the check ids
    when the scope does not know them)."""
    assert judge(catalogue, [])["A.5.1"].reasons == (
        Reason(X.MANUAL, None, None, "no automated check maps to this control"),
    )
    never = judge(catalogue, [])["A.8.14"]
    assert never.reasons == (Reason(X.NO_EVIDENCE, RDS, None, "the check has never run"),)
    assert never.at_risk is False  # false, not unknown, in JSON too
    unmapped = judge(catalogue, [], scope=Scope(frozenset({S3})))["A.8.14"]
    assert unmapped.reasons == (
        Reason(
            X.MANUAL,
            None,
            None,
            "no mapped check is in scope: aws checks could evidence it if configured and "
            "selected; until then it needs manual evidence",
        ),
    )
    soa = soa_of(catalogue, entry("A.8.12", applicable=False, justification="no data"))
    del soa.entries["A.8.14"]
    outside = judge(catalogue, [ev(RDS)], soa=soa)["A.8.14"]
    assert (outside.owner, outside.justification, outside.in_soa) == ("", "", False)
    assert outside.reasons[-1] == Reason(
        X.PASSING, None, None, "not in the Statement of Applicability; evaluated as applicable"
    )
    excluded = judge(catalogue, [], soa=soa)["A.8.12"]
    assert excluded.reasons == (
        Reason(X.NOT_APPLICABLE, None, None, "excluded by the SoA: no data"),
    )


def test_manual_evidence_reasons_and_validity_window(catalogue: Catalogue) -> None:
    """A manual control's governing item: not yet valid, valid (nearing its end from 80 % of
    its window), expired; both window ends included."""
    item = manual("A.5.1")  # valid from NOW - 2h for 24h
    what = "manual evidence process.pdf (sha256 abababababab, #1)"
    until = item.valid_until.isoformat(timespec="seconds")

    def at(now):
        return judge(catalogue, [], now=now, manual=[item])["A.5.1"]

    valid = at(NOW)
    assert valid.state is X.ATTESTED and valid.at_risk is False
    assert valid.reasons == (
        Reason(X.ATTESTED, None, None, f"{what} by alice, valid until {until}"),
    )
    assert (valid.last_evidence_at, valid.max_age) == (item.uploaded_at, 24 * HOUR)
    later = dataclasses.replace(item, valid_from=NOW + HOUR)  # uploaded before it applies
    early = judge(catalogue, [], manual=[later])["A.5.1"]
    valid_from = later.valid_from.isoformat(timespec="seconds")
    assert early.state is X.MANUAL
    assert early.reasons == (
        Reason(X.MANUAL, None, None, f"{what} is valid only from {valid_from}"),
    )
    assert judge(catalogue, [], now=later.valid_from, manual=[later])["A.5.1"].state is (X.ATTESTED)
    near = at(item.valid_from + 24 * HOUR * 0.8)
    assert near.at_risk and near.reasons[0].message.endswith(
        f"valid until {until} (nearing the end of its validity)"
    )
    assert not at(item.valid_from + 24 * HOUR * 0.8 - SECOND).at_risk
    assert at(item.valid_until).state is X.ATTESTED
    expired = at(item.valid_until + SECOND)
    assert expired.state is X.STALE
    assert expired.reasons == (Reason(X.STALE, None, None, f"{what} expired at {until}"),)
    assert judge(catalogue, [ev(RDS)])["A.5.1"].reasons[-1] == Reason(
        X.MANUAL, None, None, "no automated check maps to this control"
    )
    nothing = judge(catalogue, [ev(TRAIL)])["A.5.28"]  # supporting evidence only
    assert Reason(X.MANUAL, None, None, "no manual evidence uploaded") in nothing.reasons


def test_manual_evidence_beside_sufficient_evidence_is_listed_not_judged(catalogue) -> None:
    valid, expired = manual("A.8.14"), manual("A.8.14", uploaded=-30)
    listed = judge(catalogue, [ev(RDS)], manual=[valid])["A.8.14"]
    assert listed.state is X.PASSING
    assert [r.state for r in listed.reasons if r.check_id is None] == [X.ATTESTED]
    old = judge(catalogue, [ev(RDS)], manual=[expired])["A.8.14"]
    assert old.state is X.PASSING
    assert [r.state for r in old.reasons if r.check_id is None] == [X.MANUAL]  # not STALE
    unmapped = judge(catalogue, [], scope=Scope(frozenset({S3})), manual=[valid])["A.8.14"]
    assert unmapped.state is X.ATTESTED
    assert unmapped.reasons[0].state is X.ATTESTED
    assert unmapped.reasons[0].message.startswith("no mapped check is in scope: aws checks")
    assert (unmapped.last_evidence_at, unmapped.max_age) == (valid.uploaded_at, 24 * HOUR)


def test_supporting_evidence_is_at_risk_when_its_manual_evidence_nears_its_end(catalogue) -> None:
    ending = manual("A.5.28", uploaded=-20)  # 20h of 24h gone
    status = judge(catalogue, [ev(TRAIL)], manual=[ending])["A.5.28"]
    assert status.state is X.PASSING and status.at_risk


def test_every_accepting_exception_is_listed(catalogue: Catalogue) -> None:
    s3 = failing(S3, "arn:aws:s3:::legacy-1")
    rds = failing(RDS, "arn:db:legacy")
    on_rds = dataclasses.replace(exception(RDS, resource_pattern="arn:db:*"), id=8)
    status = judge(catalogue, [s3, rds], exceptions=[exception(), on_rds])["A.8.3"]
    assert status.state is X.ACCEPTED
    assert [e.id for e in status.exceptions] == [7, 8]


def test_only_evidence_in_scope_counts_whatever_comes_before_it(catalogue: Catalogue) -> None:
    outside = Scope(frozenset({RDS}), accounts={"aws": frozenset({"111111111111"})})
    evidence = [ev(RDS, "fail", target="aws:999999999999:eu-west-1"), ev(RDS)]
    assert judge(catalogue, evidence, scope=outside)["A.8.14"].state is X.PASSING
    last = NOW - 2 * HOUR
    gone = dataclasses.replace(
        ev(RDS, "fail", target="aws:999999999999:eu-west-1"), collected_at=last
    )
    retired = retire(outside, [gone])
    assert judge(catalogue, [gone, ev(RDS)], scope=retired, now=last + HOUR)["A.8.14"].state is (
        X.PASSING
    )
    before = judge(catalogue, [gone], scope=retired, now=last - HOUR)["A.8.14"]
    assert before.state is X.FAILING  # it counted while it existed


def test_aging_evidence_reasons_name_their_target_and_keep_the_summary(catalogue) -> None:
    near = judge(catalogue, [ev(RDS, age=10 * HOUR, summary="2 databases")])["A.8.14"]
    assert near.at_risk
    assert near.reasons == (
        Reason(X.PASSING, RDS, EU, "2 databases (evidence nearing its maximum age of 12h)"),
    )
    stale = judge(catalogue, [ev(RDS, target=US, age=13 * HOUR)])["A.8.14"]
    assert stale.reasons == (
        Reason(X.STALE, RDS, US, "last conclusive evidence is 13h old (maximum 12h)"),
    )


def test_providers_are_named_as_the_scope_knows_them(catalogue: Catalogue) -> None:
    scope = Scope(frozenset({S3}), providers={RDS: "amazon"})
    [reason] = judge(catalogue, [], scope=scope)["A.8.14"].reasons
    assert reason.message.startswith("no mapped check is in scope: amazon checks could")


def test_evidence_without_a_maximum_age_is_never_at_risk(catalogue: Catalogue) -> None:
    statuses = evaluate(catalogue, None, MAPPING, [ev(RDS, age=1000 * HOUR)], {}, NOW)
    status = {s.control.id: s for s in statuses}["A.8.14"]
    assert status.state is X.PASSING and status.at_risk is False  # false, not unknown
