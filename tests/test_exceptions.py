"""Exceptions (risk acceptance): accepted failing findings in status, and the CLI's refusals."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest

from collector.catalogue import Catalogue, load_catalogue
from collector.status import ControlState, evaluate
from storage import EvidenceStore, RiskException
from tests.test_status import EU, HOUR, INTERVALS, MAPPING, NOW, S3, US, ev

LEGACY = ("arn:aws:s3:::legacy-1", "arn:aws:s3:::legacy-2")


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def exception(id_: int = 3, pattern: str = "arn:aws:s3:::legacy-*", **kw: object) -> RiskException:
    values = {
        "check_id": S3,
        "resource_pattern": pattern,
        "target_pattern": "*",
        "reason": "migration",
        "approved_by": "CISO",
        "created_at": NOW - 10 * HOUR,
        "expires_at": NOW + 10 * HOUR,
        "created_by": "alice",
        **kw,
    }
    return RiskException(id=id_, **values)  # type: ignore[arg-type]


def failing(*resources: str, target: str = EU):
    return dataclasses.replace(
        ev(S3, "fail", target=target, summary=f"{len(resources)} buckets public"),
        failing_resources=resources,
        failed=len(resources),
    )


def a812(catalogue: Catalogue, evidence, exceptions, now: datetime = NOW):
    statuses = evaluate(catalogue, None, MAPPING, evidence, INTERVALS, now, exceptions=exceptions)
    return {s.control.id: s for s in statuses}["A.8.12"]


def test_all_failing_findings_accepted_is_accepted(catalogue: Catalogue) -> None:
    status = a812(catalogue, [failing(*LEGACY)], [exception()])
    assert status.state is ControlState.ACCEPTED
    [reason] = status.reasons
    assert reason.state is ControlState.ACCEPTED
    assert reason.message == (
        "2 failing findings accepted by exception #3 (approved by CISO, "
        "expires 2024-06-01T22:00:00+00:00: migration)"
    )
    assert [e.id for e in status.exceptions] == [3]


def test_partly_accepted_still_fails_and_says_so(catalogue: Catalogue) -> None:
    status = a812(catalogue, [failing(*LEGACY, "arn:aws:s3:::prod")], [exception()])
    assert status.state is ControlState.FAILING
    assert "(2 of 3 failing findings accepted by exception #3" in status.reasons[0].message


def test_expired_revoked_not_yet_and_other_scope_do_not_accept(catalogue: Catalogue) -> None:
    evidence = [failing(*LEGACY)]
    for unusable in (
        exception(expires_at=NOW),  # expiry is exclusive
        exception(revoked_at=NOW - HOUR),
        exception(created_at=NOW + HOUR),
        exception(check_id="aws.other"),
        exception(target_pattern="aws:*:us-*"),
        exception(pattern="arn:aws:s3:::legacy-1"),
    ):
        assert a812(catalogue, evidence, [unusable]).state is ControlState.FAILING, unusable
    # the same exception accepts until it expires, and fails again once it has
    assert a812(catalogue, evidence, [exception()], NOW + 9 * HOUR).state is ControlState.ACCEPTED
    later = a812(catalogue, [failing(*LEGACY)], [exception()], NOW + 10 * HOUR)
    assert later.state is ControlState.FAILING


def test_several_exceptions_and_targets(catalogue: Catalogue) -> None:
    evidence = [failing(*LEGACY, target=US), ev(S3, target=EU)]
    both = [
        exception(3, "arn:aws:s3:::legacy-1", target_pattern="aws:*:us-*"),
        exception(5, "*-2"),
    ]
    status = a812(catalogue, evidence, both)
    assert status.state is ControlState.ACCEPTED
    assert "accepted by exceptions #3 (approved by CISO, expires" in status.reasons[1].message
    assert "; #5 (approved by CISO, expires" in status.reasons[1].message
    assert [e.id for e in status.exceptions] == [3, 5]


def test_accepted_evidence_can_still_go_stale(catalogue: Catalogue) -> None:
    old = dataclasses.replace(failing(*LEGACY), collected_at=NOW - 13 * HOUR)
    old = dataclasses.replace(old, last_conclusive_at=old.collected_at)
    status = a812(catalogue, [old], [exception()])
    assert status.state is ControlState.STALE


def test_failing_without_known_resources_is_never_accepted(catalogue: Catalogue) -> None:
    status = a812(catalogue, [failing()], [exception(pattern="*")])
    assert status.state is ControlState.FAILING


# -- CLI ----------------------------------------------------------------------------------

ADD = ["exception", "add", "--check", S3, "--resource", "arn:aws:s3:::legacy-*"]


def test_cli_add_list_revoke(annexa_db, store_url) -> None:
    code, out, err = annexa_db(
        *ADD,
        "--reason",
        "migration",
        "--approved-by",
        "CISO",
        "--expires",
        "2099-12-31",
        "--target",
        "aws:111111111111:*",
        "--by",
        "alice",
        "--format",
        "json",
    )
    assert code == 0, err
    [row] = json.loads(out)
    assert (row["id"], row["target"], row["state"]) == (1, "aws:111111111111:*", "active")
    assert row["expires_at"] == "2100-01-01T00:00:00+00:00"  # the end of the given day
    code, out, _ = annexa_db("exception", "revoke", "1", "--reason", "bucket deleted")
    assert code == 0 and "exception #1 revoked" in out
    code, out, _ = annexa_db("exception", "list", "--format", "json")
    assert json.loads(out) == []
    code, out, _ = annexa_db("exception", "list", "--all", "--format", "json")
    [row] = json.loads(out)
    assert (row["state"], row["revoke_reason"]) == ("revoked", "bucket deleted")
    with EvidenceStore.open(store_url) as store:
        [stored] = store.exceptions()  # the exception row is kept beside its revocation
    assert stored.reason == "migration" and stored.created_by == "alice"
    code, _, err = annexa_db("exception", "revoke", "1", "--reason", "again")
    assert code == 2 and "already revoked" in err


def test_cli_failing_then_accepted_then_failing_after_expiry(annexa, tmp_path) -> None:
    """A.8.3 judged over the S3 check alone (config ``checks:``), where the pair is
    sufficient: failing, accepted while the exception is active, failing once it expired."""
    url = f"sqlite:///{tmp_path / 'e.sqlite'}"
    config = tmp_path / "annexa.yaml"
    config.write_text(f"checks: [{S3}]\n")
    from tests.store.test_store import evidence

    now = datetime.now(UTC)
    findings = [{"resource": r, "passed": False, "message": "public"} for r in LEGACY]
    with EvidenceStore.open(url) as store:
        run = store.start_run(started_at=now - 4 * HOUR)
        store.append(evidence(run, at=now - 3 * HOUR, status="fail", findings=findings))

    def a83(*args: str) -> dict:
        code, out, err = annexa("-c", str(config), "--database", url, "status", *args, "-f", "json")
        assert code == 0, err
        return {r["control"]: r for r in json.loads(out)}["A.8.3"]

    assert a83()["state"] == "failing"
    with EvidenceStore.open(url) as store:  # an exception that expired an hour ago
        store.add_exception(
            check_id=S3,
            resource_pattern="*",
            target_pattern="*",
            reason="short",
            approved_by="CISO",
            created_at=now - 2 * HOUR,
            expires_at=now - HOUR,
            created_by="alice",
        )
    before = a83("--at", (now - 150 * timedelta(minutes=1)).isoformat())
    during = a83("--at", (now - 90 * timedelta(minutes=1)).isoformat())
    assert (before["state"], during["state"], a83()["state"]) == ("failing", "accepted", "failing")
    args = ["--reason", "legacy", "--approved-by", "CISO", "--expires", "2099-01-01"]
    assert annexa("-c", str(config), "--database", url, *ADD, *args)[0] == 0
    row = a83()
    assert row["state"] == "accepted"
    [reason] = row["reasons"]
    assert reason.startswith(
        f"accepted: {S3} @ aws:123456789012:eu-west-1: 2 failing findings accepted by "
        "exception #2 (approved by CISO, expires 2099-01-02T00:00:00+00:00: legacy)"
    )
    assert row["exceptions"] == ["#2 approved by CISO, expires 2099-01-02T00:00:00+00:00: legacy"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--approved-by", "CISO", "--expires", "2099-01-01"], "--reason is required"),
        (["--reason", " ", "--approved-by", "CISO", "--expires", "2099-01-01"], "--reason is"),
        (["--reason", "r", "--expires", "2099-01-01"], "--approved-by is required"),
        (["--reason", "r", "--approved-by", "CISO"], "--expires is required"),
        (["--reason", "r", "--approved-by", "C", "--expires", "2020-01-01"], "in the past"),
        (["--reason", "r", "--approved-by", "C", "--expires", "soon"], "not a date or time"),
    ],
)
def test_cli_refusals_write_nothing(annexa, args, expected) -> None:
    code, _, err = annexa(*ADD, *args)
    assert code == 2 and expected in err and err.count("\n") == 1
    code, out, _ = annexa("exception", "list", "--all", "--format", "json")
    assert json.loads(out) == []


def test_cli_unknown_check(annexa) -> None:
    code, _, err = annexa(
        "exception",
        "add",
        "--check",
        "aws.nope",
        "--resource",
        "*",
        "--reason",
        "r",
        "--approved-by",
        "C",
        "--expires",
        "2099-01-01",
    )
    assert code == 2 and "unknown check id 'aws.nope'" in err
    code, _, err = annexa("exception", "revoke", "42", "--reason", "x")
    assert code == 2 and "no exception #42" in err
