"""Evidence records as package files, and re-sealing them from the file alone.

A record file is the canonical JSON (``storage/sealing.py``: UTF-8, keys sorted, no
whitespace, times as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``) of every sealed field plus ``id``,
``target_key``, ``observations``, ``observations_hash``, ``content_hash`` and
``previous_hash``. The seal is SHA-256 over the canonical JSON of the sealed fields, with
``observations`` replaced by ``observations_hash`` (SHA-256 of the observations' canonical
JSON) and ``previous_hash`` added: the same computation the store performs.
"""

from __future__ import annotations

import hashlib
from dataclasses import fields
from datetime import datetime
from typing import Any

from storage import EvidenceRecord, NewEvidence
from storage.sealing import canonical_json

__all__ = [
    "RECORDS_COLUMNS",
    "SEALED_FIELDS",
    "record_json",
    "record_of",
    "record_path",
    "reseal",
]

# evidence/records.csv: every record of a package by id (written by build, read by verify)
RECORDS_COLUMNS = (
    "record_id",
    "collected_at",
    "check",
    "target",
    "status",
    "path",
    "sha256",
    "content_hash",
    "previous_hash",
    "chained_to",
)

SEALED_FIELDS = tuple(f.name for f in fields(NewEvidence) if f.name != "observations")
# the document's keys sort around "observations": these before it, these after it
_HEAD_FIELDS = tuple(n for n in SEALED_FIELDS if n < "observations")
_TAIL_FIELDS = tuple(n for n in SEALED_FIELDS if n > "observations")


def record_path(record: EvidenceRecord) -> str:
    """``evidence/2025-03-31/aws.s3.public_access_blocked/1234.json``."""
    return f"evidence/{record.collected_at:%Y-%m-%d}/{record.check_id}/{record.id}.json"


def record_json(record: EvidenceRecord) -> bytes:
    """The record file's bytes (canonical JSON, newline-terminated).

    The observations are encoded once and spliced in at their sorted place (their hash is
    taken over the same bytes), rather than encoded again inside the whole document."""
    observations = canonical_json(record.observations)
    head: dict[str, Any] = {name: getattr(record, name) for name in _HEAD_FIELDS}
    head["id"] = record.id
    tail: dict[str, Any] = {name: getattr(record, name) for name in _TAIL_FIELDS}
    tail |= {
        "observations_hash": hashlib.sha256(observations).hexdigest(),
        "previous_hash": record.previous_hash,
        "target_key": record.target_key,
    }
    head["content_hash"] = record.content_hash
    return b"".join(
        (
            canonical_json(head)[:-1],
            b',"observations":',
            observations,
            b",",
            canonical_json(tail)[1:],
            b"\n",
        )
    )


def reseal(document: dict[str, Any]) -> tuple[str, str]:
    """(observations hash, content hash) recomputed from a parsed record file.

    KeyError names a missing field."""
    observations_hash = hashlib.sha256(canonical_json(document["observations"])).hexdigest()
    payload = {name: document[name] for name in SEALED_FIELDS}
    payload["observations_hash"] = observations_hash
    payload["previous_hash"] = document["previous_hash"]
    return observations_hash, hashlib.sha256(canonical_json(payload)).hexdigest()


def record_of(document: dict[str, Any]) -> EvidenceRecord:
    """The record a parsed record file holds (``record_json``'s inverse); KeyError, TypeError
    or ValueError for a document that is not one."""
    values = {name: document[name] for name in SEALED_FIELDS}
    values["collected_at"] = datetime.fromisoformat(values["collected_at"])
    return EvidenceRecord(
        **values,
        observations=document["observations"],
        id=int(document["id"]),
        content_hash=document["content_hash"],
        previous_hash=document["previous_hash"],
    )
