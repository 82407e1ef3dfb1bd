"""Evidence storage: append-only, hash-chained evidence records over SQLite or PostgreSQL."""

from storage.errors import StoreError
from storage.migrate import current_revision, upgrade
from storage.records import (
    EvidenceRecord,
    EvidenceStatus,
    EvidenceSummary,
    NewEvidence,
    RunOutcome,
    RunRecord,
)
from storage.sealing import GENESIS_HASH, canonical_json, seal
from storage.store import EvidenceStore

__all__ = [
    "GENESIS_HASH",
    "EvidenceRecord",
    "EvidenceStatus",
    "EvidenceStore",
    "EvidenceSummary",
    "NewEvidence",
    "RunOutcome",
    "RunRecord",
    "StoreError",
    "canonical_json",
    "current_revision",
    "seal",
    "upgrade",
]
