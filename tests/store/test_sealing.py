"""Canonical JSON and seals: deterministic, and sensitive to every sealed input."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from storage import GENESIS_HASH, NewEvidence, canonical_json, seal

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
BASE = NewEvidence(
    run_id="r",
    check_id="aws.iam.root_mfa_enabled",
    check_version=1,
    provider="aws",
    account="123456789012",
    region=None,
    collected_at=AT,
    status="pass",
    summary="1 account",
    findings=[{"resource": "root", "passed": True, "message": "MFA on"}],
    observations={},
)


def test_canonical_json_is_sorted_compact_utf8_and_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    value = {"b": [1, "é"], "a": datetime(2024, 5, 1, 14, 0, tzinfo=plus_two)}
    assert canonical_json(value) == '{"a":"2024-05-01T12:00:00.000000Z","b":[1,"é"]}'.encode()
    with pytest.raises(ValueError, match="timezone-aware"):
        canonical_json({"at": datetime(2024, 1, 1)})


def test_target_key() -> None:
    assert BASE.target_key == "aws:123456789012"
    assert dataclasses.replace(BASE, region="eu-west-1").target_key == "aws:123456789012:eu-west-1"


def test_seal_covers_every_field_and_both_hashes() -> None:
    reference = seal(BASE, GENESIS_HASH, "a" * 64)
    assert reference == seal(BASE, GENESIS_HASH, "a" * 64)
    assert len(reference) == 64
    changes = {
        "run_id": "s",
        "check_id": "x",
        "check_version": 2,
        "provider": "gcp",
        "account": "9",
        "region": "eu",
        "collected_at": AT + timedelta(microseconds=1),
        "status": "fail",
        "summary": "",
        "findings": [],
        "error": "boom",
    }
    for name, value in changes.items():
        assert (
            seal(dataclasses.replace(BASE, **{name: value}), GENESIS_HASH, "a" * 64) != reference
        ), name
    assert seal(BASE, "1" * 64, "a" * 64) != reference
    assert seal(BASE, GENESIS_HASH, "b" * 64) != reference
    # observations enter only through their hash
    assert (
        seal(dataclasses.replace(BASE, observations={"x": 1}), GENESIS_HASH, "a" * 64) == reference
    )


def test_canonical_json_ignores_the_machines_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same instant seals the same on a server set to New York time as on one set to UTC."""
    plus_two = timezone(timedelta(hours=2))
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        at = canonical_json(datetime(2024, 5, 1, 14, 0, tzinfo=plus_two))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert at == b'"2024-05-01T12:00:00.000000Z"'


def test_canonical_json_sorts_sets_and_writes_dates() -> None:
    value = {"ids": frozenset({"b", "a"}), "tags": {"z", "y"}, "day": date(2024, 5, 1)}
    assert canonical_json(value) == b'{"day":"2024-05-01","ids":["a","b"],"tags":["y","z"]}'
    with pytest.raises(TypeError, match="bytes is not JSON serialisable"):
        canonical_json({"raw": b"x"})
