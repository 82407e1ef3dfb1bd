"""Canonical JSON and the SHA-256 seal that chains evidence records."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from datetime import UTC, date, datetime

from storage.records import NewEvidence

GENESIS_HASH = "0" * 64
_SEALED_FIELDS = tuple(f.name for f in fields(NewEvidence) if f.name != "observations")


def _iso_utc(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: evidence times must be timezone-aware UTC")
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return _iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def canonical_json(value: object) -> bytes:
    """Deterministic UTF-8 JSON: sorted keys, no whitespace, datetimes as ISO 8601 UTC."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    ).encode()


def observations_hash(observations: object) -> str:
    """SHA-256 hex of the canonical JSON of an observations snapshot (its storage key)."""
    return hashlib.sha256(canonical_json(observations)).hexdigest()


def seal(evidence: NewEvidence, previous_hash: str, observations_hash: str) -> str:
    """SHA-256 hex over every evidence field, the previous record's hash and the observations hash.

    The observations enter the seal by their hash, so a shared snapshot is hashed once.
    """
    payload: dict[str, object] = {name: getattr(evidence, name) for name in _SEALED_FIELDS}
    payload["observations_hash"] = observations_hash
    payload["previous_hash"] = previous_hash
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def row_seal(values: dict[str, object]) -> str:
    """SHA-256 hex of the canonical JSON of a row's fields (manual items, exceptions)."""
    return hashlib.sha256(canonical_json(values)).hexdigest()
