"""Continuity over a period: exact shares and gaps on hand-built histories, and the CLI."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from collector.catalogue import Catalogue, load_catalogue
from collector.continuity import Gap, continuity
from storage import EvidenceStore, EvidenceSummary, ManualEvidence, RiskException
from tests.store.test_store import evidence
from tests.test_status import EU, INTERVALS, MAPPING, MFA, NOW, S3, entry, soa_of

H = timedelta(hours=1)
T = NOW  # period origin


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def history(check_id: str, *records: tuple[float, str], failing: tuple[str, ...] = ()):
    """Summaries for one (check, target): (hours after T, status), conclusive carried forward."""
    events, conclusive = [], None
    for i, (hours, status) in enumerate(records):
        at = T + hours * H
        if status != "error":
            conclusive = at
        events.append(
            EvidenceSummary(
                check_id=check_id,
                target_key=EU,
                provider="aws",
                account="111111111111",
                region="eu-west-1",
                status=status,  # type: ignore[arg-type]
                collected_at=at,
                last_conclusive_at=conclusive,
                passed=int(status == "pass"),
                failed=int(status == "fail"),
                summary=status,
                evidence_id=i + 1,
                error="denied" if status == "error" else None,
                failing_resources=failing if status == "fail" else (),
            )
        )
    return events


def of(catalogue: Catalogue, control: str, events, start: float, end: float, **kw: object):
    found = continuity(
        catalogue,
        kw.pop("soa", None),
        MAPPING,
        events,
        INTERVALS,
        T + start * H,
        T + end * H,
        **kw,  # type: ignore[arg-type]
    )
    return {c.control.id: c for c in found}[control]


def gaps(*spans: tuple[float, float, str]) -> tuple[Gap, ...]:
    return tuple(Gap(T + a * H, T + b * H, cause) for a, b, cause in spans)


def test_staleness_gap_between_two_passing_records(catalogue: Catalogue) -> None:
    # S3 max age is 12h (6h interval x 2): passing records 30h apart leave an 18h stale gap.
    result = of(catalogue, "A.8.12", history(S3, (0, "pass"), (30, "pass")), 0, 48)
    assert result.gaps == gaps((12, 30, "stale"), (42, 48, "stale"))
    assert result.share == 24 / 48


def test_failing_gap(catalogue: Catalogue) -> None:
    events = history(S3, (0, "pass"), (5, "fail"), (8, "pass"))
    result = of(catalogue, "A.8.12", events, 0, 10)
    assert result.gaps == gaps((5, 8, "failing"))
    assert result.share == pytest.approx(0.7)


def test_error_outranks_the_staleness_behind_it(catalogue: Catalogue) -> None:
    result = of(catalogue, "A.8.12", history(S3, (0, "pass"), (4, "error")), 0, 20)
    assert result.gaps == gaps((4, 20, "error"))
    assert result.share == pytest.approx(0.2)


def test_no_evidence_before_the_first_record_and_per_check(catalogue: Catalogue) -> None:
    result = of(catalogue, "A.8.12", history(S3, (0, "pass")), -2, 4)
    assert result.gaps == gaps((-2, 0, "no_evidence"))
    both = history(S3, (0, "pass"), (10, "pass")) + history(MFA, (3, "pass"), (9, "fail"))
    result = of(catalogue, "A.8.3", both, 0, 12)  # A.8.3 needs S3 and MFA
    assert result.gaps == gaps((0, 3, "no_evidence"), (9, 12, "failing"))
    assert of(catalogue, "A.8.15", both, 0, 12).gaps == gaps((0, 12, "no_evidence"))


def test_period_opens_with_the_state_before_it(catalogue: Catalogue) -> None:
    # the failing record at -5h governs the start of the period until the pass at 2h
    result = of(catalogue, "A.8.12", history(S3, (-5, "fail"), (2, "pass")), 0, 4)
    assert result.gaps == gaps((0, 2, "failing"))
    assert result.share == 0.5


def exception(**kw: object) -> RiskException:
    values = {
        "id": 7,
        "check_id": S3,
        "resource_pattern": "arn:aws:s3:::legacy",
        "target_pattern": "*",
        "reason": "r",
        "approved_by": "CISO",
        "created_at": T + 2 * H,
        "expires_at": T + 5 * H,
        "created_by": "a",
        **kw,
    }
    return RiskException(**values)  # type: ignore[arg-type]


def test_exceptions_cover_failing_findings_while_active(catalogue: Catalogue) -> None:
    events = history(S3, (0, "fail"), (6, "fail"), failing=("arn:aws:s3:::legacy",))
    result = of(catalogue, "A.8.12", events, 0, 8, exceptions=[exception()])
    # an accepted risk is not evidence that the control operates: its own gap cause
    assert result.gaps == gaps((0, 2, "failing"), (2, 5, "accepted"), (5, 8, "failing"))
    assert result.share == 0
    revoked = exception(revoked_at=T + 4 * H)
    result = of(catalogue, "A.8.12", events, 0, 8, exceptions=[revoked])
    assert result.gaps == gaps((0, 2, "failing"), (2, 4, "accepted"), (4, 8, "failing"))


def manual_item(id_: int, uploaded: float, valid: float) -> ManualEvidence:
    at = T + uploaded * H
    return ManualEvidence(
        id=id_,
        control_id="A.5.1",
        sha256="0" * 64,
        file_name="p.pdf",
        size=1,
        media_type="application/pdf",
        note="",
        uploaded_at=at,
        valid_from=at,
        valid_until=at + valid * H,
        uploaded_by="a",
    )


def test_manual_control_continuity(catalogue: Catalogue) -> None:
    items = [manual_item(1, 2, 10), manual_item(2, 20, 100)]
    result = of(catalogue, "A.5.1", [], 0, 24, manual=items)
    assert result.gaps == gaps((0, 2, "no_evidence"), (12, 20, "stale"))
    assert result.share == 14 / 24


def test_not_applicable_and_bad_period(catalogue: Catalogue) -> None:
    soa = soa_of(catalogue, entry("A.8.12", applicable=False, justification="no buckets"))
    result = of(catalogue, "A.8.12", history(S3, (0, "fail")), 0, 4, soa=soa)
    assert (result.share, result.gaps) == (None, ())
    with pytest.raises(ValueError, match="empty or inverted period"):
        of(catalogue, "A.8.12", [], 4, 4)


def test_soa_max_age_sets_the_staleness_gap(catalogue: Catalogue) -> None:
    soa = soa_of(catalogue, entry("A.8.12", max_evidence_age=2 * H))
    result = of(catalogue, "A.8.12", history(S3, (0, "pass"), (5, "pass")), 0, 6, soa=soa)
    assert result.gaps == gaps((2, 5, "stale"))
    unrelated = dataclasses.replace(history(S3, (0, "pass"))[0], check_id="aws.unmapped")
    assert of(catalogue, "A.8.12", [unrelated], 0, 1).gaps == gaps((0, 1, "no_evidence"))


# -- CLI ----------------------------------------------------------------------------------


def test_cli_continuity_fields(annexa_db, store_url, tmp_path) -> None:
    from collector.app import load_workspace
    from collector.settings import load_settings

    config = tmp_path / "annexa.yaml"
    config.write_text("{}\n")
    workspace = load_workspace(load_settings(config))
    in_scope = workspace.scope(store=None).checks
    mapped = [c for c in workspace.mapping.checks_for("A.8.3") if c in in_scope]
    assert mapped and all(c.startswith("aws.") for c in mapped)  # the default config: AWS only
    soa = tmp_path / "soa.yaml"
    soa.write_text(
        "controls:\n  - {control: A.8.3, applicable: yes, max_evidence_age: 12h}\n"
        "  - {control: A.7.5, applicable: no, justification: fully remote}\n"
    )
    base = NOW.replace(year=2024, month=5, day=1, hour=0)
    with EvidenceStore.open(store_url) as store:
        run = store.start_run(started_at=base)
        for hours in (0, 30):
            store.append_many(evidence(run, check_id=c, at=base + hours * H) for c in mapped)
    code, out, err = annexa_db(
        "status",
        "--soa",
        str(soa),
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-02",  # the end of that day: 2024-05-03T00:00
        "--at",
        "2024-05-03",
        "--format",
        "json",
    )
    assert code == 0, err
    rows = {r["control"]: r for r in json.loads(out)}
    assert rows["A.7.5"]["continuity"] is None
    assert rows["A.8.3"]["gaps"] == [
        {
            "start": "2024-05-01T12:00:00+00:00",
            "end": "2024-05-02T06:00:00+00:00",
            "cause": "stale",
        },
        {
            "start": "2024-05-02T18:00:00+00:00",
            "end": "2024-05-03T00:00:00+00:00",
            "cause": "stale",
        },
    ]
    assert rows["A.8.3"]["continuity"] == 50.0
    code, out, _ = annexa_db(
        "status", "--soa", str(soa), "--from", "2024-05-01", "--to", "2024-05-02", "--format", "csv"
    )
    assert code == 0 and "stale 2024-05-01T12:00:00+00:00/2024-05-02T06:00:00+00:00" in out
    code, out, _ = annexa_db(
        "status", "--soa", str(soa), "--from", "2024-05-01", "--to", "2024-05-02"
    )
    assert code == 0 and "continuity" in out and "50.0%" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--from", "2024-05-03", "--to", "2024-05-01"], "empty or inverted period"),
        (["--from", "2024-05-01T00:00:00Z", "--to", "2024-04-30"], "empty or inverted period"),
        (
            ["--from", "2999-01-01", "--to", "2999-01-02"],
            "--from 2999-01-01T00:00:00+00:00 is in the future",
        ),
        (["--at", "2999-01-01"], "--at 2999-01-01T00:00:00+00:00 is in the future"),
        (["--to", "2024-05-01"], "--to needs --from"),
    ],
)
def test_cli_bad_period(annexa, args, expected) -> None:
    code, _, err = annexa("status", *args)
    assert code == 2 and expected in err and err.count("\n") == 1


def test_cli_period_reaching_past_now_stops_at_now(annexa, tmp_path) -> None:
    """``--to`` tomorrow: one note line, no gap or covered time after now."""
    from datetime import UTC, datetime
    from pathlib import Path

    url = f"sqlite:///{tmp_path / 'now.sqlite'}"
    now = datetime.now(UTC)
    with EvidenceStore.open(url) as store:
        run = store.start_run(started_at=now - 2 * H)
        store.append(evidence(run, at=now - 2 * H))
    today = now.date()
    tomorrow = (now + 24 * H).date()
    code, out, err = annexa(
        "--database", url, "status", "--soa", str(Path(__file__).parent / "data/soa_small.yaml"),
        "--from", today.isoformat(), "--to", tomorrow.isoformat(), "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    notes = [line for line in err.splitlines() if "the period ends after now" in line]
    assert len(notes) == 1
    after = (tomorrow + (tomorrow - today)).isoformat()  # --to is the end of that day
    assert notes[0].endswith(f"(was {after}T00:00:00+00:00)")
    for row in json.loads(out):
        for gap in row["gaps"]:
            assert datetime.fromisoformat(gap["end"]) <= datetime.now(UTC)
    a83 = {r["control"]: r for r in json.loads(out)}["A.8.3"]
    assert a83["continuity"] is not None and a83["continuity"] < 100  # nothing before 2h ago
