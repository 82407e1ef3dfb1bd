"""Control status: a pure function of SoA, mapping, latest evidence and ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.catalogue import Catalogue, load_catalogue
from collector.mapping import Mapping, Pair, Strength
from collector.soa import Soa, SoaEntry
from collector.status import ControlState, ControlStatus, evaluate, summarise
from storage.records import EvidenceSummary

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
S3 = "aws.s3.public_access_blocked"
MFA = "aws.iam.root_mfa_enabled"
TRAIL = "aws.cloudtrail.enabled"
INTERVALS = {S3: 6 * HOUR, MFA: 6 * HOUR, TRAIL: 12 * HOUR}  # max age = 12h, 12h, 24h
SUFFICIENT, SUPPORTING = Strength.SUFFICIENT, Strength.SUPPORTING
MAPPING = Mapping(
    {
        S3: {"A.8.3": Pair(SUFFICIENT, "public buckets"), "A.8.12": Pair(SUFFICIENT, "leakage")},
        MFA: {
            "A.8.5": Pair(SUFFICIENT, "root needs MFA"),
            "A.8.3": Pair(SUFFICIENT, "root bypasses access restriction"),
        },
        TRAIL: {"A.8.15": Pair(SUFFICIENT, "logging")},
    }
)
EU, US = "aws:111111111111:eu-west-1", "aws:111111111111:us-east-1"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def ev(
    check_id: str,
    status: str = "pass",
    *,
    target: str = EU,
    age: timedelta = HOUR,
    conclusive_age: timedelta | None = None,
    summary: str = "",
    error: str | None = None,
) -> EvidenceSummary:
    """Latest evidence for one (check, target), collected ``age`` before NOW."""
    collected = NOW - age
    if status == "error":
        conclusive = None if conclusive_age is None else NOW - conclusive_age
    else:
        conclusive = collected if conclusive_age is None else NOW - conclusive_age
    _, account, region = target.split(":")
    return EvidenceSummary(
        check_id=check_id,
        target_key=target,
        provider="aws",
        account=account,
        region=region,
        status=status,  # type: ignore[arg-type]
        collected_at=collected,
        last_conclusive_at=conclusive,
        passed=1 if status == "pass" else 0,
        failed=1 if status == "fail" else 0,
        summary=summary or f"{status} summary",
        evidence_id=1,
        error=error,
    )


def entry(control_id: str, applicable: bool = True, **fields: object) -> SoaEntry:
    values = {
        "justification": "",
        "implementation_status": "implemented",
        "owner": "CISO",
        "max_evidence_age": None,
        "source": "soa.yaml entry 1",
        **fields,
    }
    return SoaEntry(control_id=control_id, applicable=applicable, **values)  # type: ignore[arg-type]


def soa_of(catalogue: Catalogue, *special: SoaEntry) -> Soa:
    """An SoA listing every control as applicable, with ``special`` entries replacing defaults."""
    entries = {c.id: entry(c.id) for c in catalogue.controls}
    entries.update({e.control_id: e for e in special})
    return Soa(Path("soa.yaml"), entries)


def run(
    catalogue: Catalogue, evidence: list[EvidenceSummary], soa: Soa | None = None, **kw: object
) -> dict[str, ControlStatus]:
    statuses = evaluate(catalogue, soa, MAPPING, evidence, INTERVALS, NOW, **kw)  # type: ignore[arg-type]
    return {s.control.id: s for s in statuses}


def test_one_status_per_control_in_catalogue_order(catalogue: Catalogue) -> None:
    statuses = evaluate(catalogue, None, MAPPING, [], INTERVALS, NOW)
    assert [s.control for s in statuses] == list(catalogue.controls)


def test_manual_when_nothing_maps(catalogue: Catalogue) -> None:
    status = run(catalogue, [])["A.5.1"]
    assert status.state is ControlState.MANUAL
    assert status.checks == () and len(status.reasons) == 1
    assert status.in_soa and status.last_evidence_at is None


def test_no_evidence_per_check(catalogue: Catalogue) -> None:
    status = run(catalogue, [ev(S3)])["A.8.3"]
    assert status.state is ControlState.NO_EVIDENCE
    assert status.checks == (MFA, S3)
    never = [r for r in status.reasons if r.state is ControlState.NO_EVIDENCE]
    assert [(r.check_id, r.target_key) for r in never] == [(MFA, None)]
    assert any(r.state is ControlState.PASSING and r.check_id == S3 for r in status.reasons)


def test_passing(catalogue: Catalogue) -> None:
    status = run(catalogue, [ev(S3, summary="3 buckets, all blocked")])["A.8.12"]
    assert status.state is ControlState.PASSING
    assert not status.at_risk
    assert [r.message for r in status.reasons] == ["3 buckets, all blocked"]
    assert status.last_evidence_at == NOW - HOUR
    assert status.max_age == 12 * HOUR


def test_nothing_in_scope_is_not_a_pass(catalogue: Catalogue) -> None:
    status = run(catalogue, [ev(S3, "not_applicable", summary="0 buckets")])["A.8.12"]
    assert status.state is ControlState.MANUAL
    messages = [r.message for r in status.reasons]
    assert "nothing to judge: 0 buckets" in messages
    assert any("found nothing to judge: it needs valid manual evidence" in m for m in messages)
    assert "no manual evidence uploaded" in messages


def test_failing(catalogue: Catalogue) -> None:
    evidence = [ev(S3, target=EU), ev(S3, "fail", target=US, summary="1 of 4 buckets public")]
    status = run(catalogue, evidence)["A.8.12"]
    assert status.state is ControlState.FAILING
    failing = [r for r in status.reasons if r.state is ControlState.FAILING]
    assert [(r.check_id, r.target_key, r.message) for r in failing] == [
        (S3, US, "1 of 4 buckets public")
    ]


def test_error_carries_its_cause(catalogue: Catalogue) -> None:
    denied = "AccessDenied: s3:GetBucketPublicAccessBlock"
    status = run(catalogue, [ev(S3, "error", error=denied)])["A.8.12"]
    assert status.state is ControlState.ERROR
    assert [(r.state, r.message) for r in status.reasons] == [(ControlState.ERROR, denied)]


def test_every_reason_listed_worst_shown(catalogue: Catalogue) -> None:
    evidence = [
        ev(S3, "fail", summary="bucket public"),
        ev(MFA, "error", error="AccessDenied: iam:GetAccountSummary", conclusive_age=30 * HOUR),
    ]
    status = run(catalogue, evidence)["A.8.3"]
    assert status.state is ControlState.FAILING
    assert {(r.state, r.check_id) for r in status.reasons} == {
        (ControlState.FAILING, S3),
        (ControlState.ERROR, MFA),
        (ControlState.STALE, MFA),  # its last conclusive result is 30h old, max 12h
    }


def test_error_without_conclusive_evidence_stands_alone(catalogue: Catalogue) -> None:
    status = run(catalogue, [ev(S3, "error", age=100 * HOUR, error="timeout")])["A.8.12"]
    assert [r.state for r in status.reasons] == [ControlState.ERROR]


def test_stale(catalogue: Catalogue) -> None:
    status = run(catalogue, [ev(S3, age=13 * HOUR)])["A.8.12"]
    assert status.state is ControlState.STALE
    assert status.reasons[0].message == "last conclusive evidence is 13h old (maximum 12h)"


def test_stale_boundary_is_exclusive(catalogue: Catalogue) -> None:
    at_max = run(catalogue, [ev(S3, age=12 * HOUR)])["A.8.12"]
    assert at_max.state is ControlState.PASSING
    just_over = run(catalogue, [ev(S3, age=12 * HOUR + timedelta(microseconds=1))])["A.8.12"]
    assert just_over.state is ControlState.STALE


def test_stale_factor(catalogue: Catalogue) -> None:
    status = run(catalogue, [ev(S3, age=13 * HOUR)], stale_factor=3.0)["A.8.12"]
    assert status.state is ControlState.PASSING
    assert status.max_age == 18 * HOUR


def test_at_risk_threshold(catalogue: Catalogue) -> None:
    threshold = 12 * HOUR * 0.8  # 9h36m
    below = run(catalogue, [ev(S3, age=threshold - timedelta(microseconds=1))])["A.8.12"]
    assert below.state is ControlState.PASSING and not below.at_risk
    at = run(catalogue, [ev(S3, age=threshold)])["A.8.12"]
    assert at.state is ControlState.PASSING and at.at_risk
    assert "nearing its maximum age" in at.reasons[0].message
    custom = run(catalogue, [ev(S3, age=7 * HOUR)], at_risk_fraction=0.5)["A.8.12"]
    assert custom.at_risk


def test_at_risk_only_beside_passing(catalogue: Catalogue) -> None:
    evidence = [ev(S3, age=11 * HOUR), ev(MFA, "fail")]
    status = run(catalogue, evidence)["A.8.3"]
    assert status.state is ControlState.FAILING and not status.at_risk


def test_soa_max_age_overrides_interval(catalogue: Catalogue) -> None:
    soa = soa_of(catalogue, entry("A.8.12", max_evidence_age=2 * HOUR))
    evidence = [ev(S3, age=3 * HOUR)]
    assert run(catalogue, evidence)["A.8.12"].state is ControlState.PASSING
    status = run(catalogue, evidence, soa)["A.8.12"]
    assert status.state is ControlState.STALE and status.max_age == 2 * HOUR
    relaxed = soa_of(catalogue, entry("A.8.12", max_evidence_age=timedelta(days=7)))
    assert run(catalogue, [ev(S3, age=100 * HOUR)], relaxed)["A.8.12"].state is (
        ControlState.PASSING
    )


def test_not_applicable_wins_over_failing(catalogue: Catalogue) -> None:
    soa = soa_of(catalogue, entry("A.8.12", applicable=False, justification="no buckets at all"))
    status = run(catalogue, [ev(S3, "fail")], soa)["A.8.12"]
    assert status.state is ControlState.NOT_APPLICABLE
    assert len(status.reasons) == 1
    assert status.reasons[0].message == "excluded by the SoA: no buckets at all"
    assert status.justification == "no buckets at all"
    assert status.in_soa and not status.at_risk


def test_not_in_soa_still_evaluated(catalogue: Catalogue) -> None:
    soa = soa_of(catalogue)
    del soa.entries["A.8.12"]
    status = run(catalogue, [ev(S3, "fail")], soa)["A.8.12"]
    assert status.state is ControlState.FAILING
    assert not status.in_soa and status.owner == ""
    note = status.reasons[-1]
    assert note.check_id is None and note.state is ControlState.FAILING
    assert "not in the Statement of Applicability" in note.message
    assert run(catalogue, [ev(S3, "fail")], soa)["A.8.3"].in_soa


def test_no_soa_means_all_applicable(catalogue: Catalogue) -> None:
    statuses = evaluate(catalogue, None, MAPPING, [], INTERVALS, NOW)
    assert all(s.in_soa for s in statuses)
    assert not any(s.state is ControlState.NOT_APPLICABLE for s in statuses)


def test_owner_and_justification_from_soa(catalogue: Catalogue) -> None:
    soa = soa_of(catalogue, entry("A.8.15", owner="SRE lead", justification="audit trail"))
    status = run(catalogue, [ev(TRAIL)], soa)["A.8.15"]
    assert (status.owner, status.justification) == ("SRE lead", "audit trail")


def test_last_evidence_at_is_newest_collected(catalogue: Catalogue) -> None:
    evidence = [ev(S3, age=5 * HOUR), ev(MFA, age=2 * HOUR), ev(TRAIL, age=HOUR)]
    assert run(catalogue, evidence)["A.8.3"].last_evidence_at == NOW - 2 * HOUR


def test_latest_summary_wins_per_target(catalogue: Catalogue) -> None:
    old_fail = ev(S3, "fail", age=5 * HOUR)
    assert run(catalogue, [old_fail, ev(S3)])["A.8.12"].state is ControlState.PASSING


def test_pure_and_now_respected(catalogue: Catalogue) -> None:
    evidence = [ev(S3, age=10 * HOUR), ev(MFA, "fail"), ev(TRAIL, "error", error="x")]
    soa = soa_of(catalogue, entry("A.7.5", applicable=False, justification="cloud"))
    first = evaluate(catalogue, soa, MAPPING, iter(evidence), INTERVALS, NOW)
    second = evaluate(catalogue, soa, MAPPING, list(evidence), INTERVALS, NOW)
    assert first == second
    later = evaluate(catalogue, soa, MAPPING, evidence, INTERVALS, NOW + 3 * HOUR)
    by_id = {s.control.id: s for s in later}
    assert by_id["A.8.12"].state is ControlState.STALE  # 13h old at the later `now`
    assert {s.control.id: s for s in first}["A.8.12"].state is ControlState.PASSING


def test_missing_interval_is_never_stale(catalogue: Catalogue) -> None:
    statuses = evaluate(catalogue, None, MAPPING, [ev(S3, age=1000 * HOUR)], {}, NOW)
    status = {s.control.id: s for s in statuses}["A.8.12"]
    assert status.state is ControlState.PASSING and status.max_age is None


def test_summarise(catalogue: Catalogue) -> None:
    soa = soa_of(catalogue, entry("A.7.5", applicable=False, justification="cloud"))
    evidence = [ev(S3), ev(MFA, "fail")]
    counts = summarise(evaluate(catalogue, soa, MAPPING, evidence, INTERVALS, NOW))
    assert list(counts) == list(ControlState)
    assert counts[ControlState.NOT_APPLICABLE] == 1
    assert counts[ControlState.FAILING] == 2  # A.8.3 and A.8.5
    assert counts[ControlState.PASSING] == 1  # A.8.12
    assert counts[ControlState.NO_EVIDENCE] == 1  # A.8.15
    assert counts[ControlState.MANUAL] == 93 - 5
    assert sum(counts.values()) == 93


def test_states_are_lower_case_strings() -> None:
    assert ControlState.FAILING == "failing"
    assert ControlState.NOT_APPLICABLE.value == "not_applicable"
