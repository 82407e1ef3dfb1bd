"""Evidence storage: append-only, hash-chained evidence records over SQLite or PostgreSQL.

The record types, errors and sealing load here; the store, its migrations and the audit tables
(and with them SQLAlchemy) on first use of one of their names, so commands that only read check
metadata (``annexa checks``, ``controls``) never load SQLAlchemy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from storage.errors import StoreError
from storage.records import (
    MAX_BLOB_BYTES,
    EvidenceRecord,
    EvidenceStatus,
    EvidenceSummary,
    IntegrityProblem,
    ManualEvidence,
    NewEvidence,
    RiskException,
    RunOutcome,
    RunRecord,
    Tombstone,
    Transition,
    VerifyReport,
)
from storage.sealing import GENESIS_HASH, canonical_json, seal

if TYPE_CHECKING:
    from storage.audit import BlobTooLarge
    from storage.migrate import current_revision, upgrade
    from storage.store import EvidenceStore

#: names whose modules import SQLAlchemy: loaded on first use
_LAZY = {
    "BlobTooLarge": "storage.audit",
    "current_revision": "storage.migrate",
    "upgrade": "storage.migrate",
    "EvidenceStore": "storage.store",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'storage' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "GENESIS_HASH",
    "MAX_BLOB_BYTES",
    "BlobTooLarge",
    "EvidenceRecord",
    "EvidenceStatus",
    "EvidenceStore",
    "EvidenceSummary",
    "IntegrityProblem",
    "ManualEvidence",
    "NewEvidence",
    "RiskException",
    "RunOutcome",
    "RunRecord",
    "StoreError",
    "Tombstone",
    "Transition",
    "VerifyReport",
    "canonical_json",
    "current_revision",
    "seal",
    "upgrade",
]
