"""Evidence storage: append-only, hash-chained evidence records over SQLite or PostgreSQL."""

from storage.audit import MAX_BLOB_BYTES, BlobTooLarge
from storage.errors import StoreError
from storage.migrate import current_revision, upgrade
from storage.records import (
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
from storage.store import EvidenceStore

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
