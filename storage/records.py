"""Plain, immutable records exchanged with the evidence store (no SQLAlchemy here)."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Literal

EvidenceStatus = Literal["pass", "fail", "error", "not_applicable"]
RunOutcome = Literal["running", "complete", "partial", "failed", "interrupted"]
MAX_BLOB_BYTES = 50 * 1024 * 1024  # 50 MiB: larger files belong in a document system


def make_target_key(provider: str, account: str, region: str | None) -> str:
    """Return ``provider:account[:region]``, the key that names one evaluation target."""
    return f"{provider}:{account}" if region is None else f"{provider}:{account}:{region}"


@dataclass(frozen=True)
class NewEvidence:
    """The result of one check against one target in one run, before it is sealed."""

    run_id: str
    check_id: str
    check_version: int
    provider: str
    account: str
    region: str | None  # None = account-wide evidence
    collected_at: datetime  # aware UTC
    status: EvidenceStatus
    summary: str
    findings: list[dict]  # [{"resource": str, "passed": bool, "message": str}, ...]
    observations: dict  # JSON-able, already redacted
    error: str | None = None  # the cause when status == "error"

    @property
    def target_key(self) -> str:
        """``aws:123456789012:eu-west-1``, or ``aws:123456789012`` for account-wide evidence."""
        return make_target_key(self.provider, self.account, self.region)


@dataclass(frozen=True)
class EvidenceRecord(NewEvidence):
    """A stored, sealed evidence record: the evidence plus its id and its place in the chain."""

    _: KW_ONLY
    id: int
    content_hash: str
    previous_hash: str


@dataclass(frozen=True)
class EvidenceSummary:
    """The newest evidence for one (check, target): what status evaluation needs."""

    check_id: str
    target_key: str
    provider: str
    account: str
    region: str | None
    status: EvidenceStatus
    collected_at: datetime  # of the latest record (any status)
    last_conclusive_at: datetime | None  # latest record whose status is not "error"
    passed: int  # finding counts of the latest record
    failed: int
    summary: str
    evidence_id: int
    error: str | None
    failing_resources: tuple[str, ...] = ()  # resources of the latest record's failing findings


@dataclass(frozen=True)
class RunRecord:
    """One collection run; ``records`` is the number of evidence rows written for it."""

    id: str
    started_at: datetime
    finished_at: datetime | None
    outcome: RunOutcome
    trigger: str
    host: str
    pid: int
    planned: int
    records: int
    annexa_version: str | None = None
    # provider:account -> identity that collected it (None: not reached); see set_run_accounts
    collected_by: dict[str, str | None] | None = None


@dataclass(frozen=True)
class ManualEvidence:
    """An uploaded evidence file for one control (content in the blob table, by SHA-256).

    Items are never changed: a newer upload for the same control supersedes older ones.
    """

    id: int
    control_id: str
    sha256: str
    file_name: str
    size: int
    media_type: str
    note: str
    uploaded_at: datetime
    valid_from: datetime
    valid_until: datetime
    uploaded_by: str


@dataclass(frozen=True)
class RiskException:
    """An approved exception (risk acceptance): failing findings of ``check_id`` on resources
    matching ``resource_pattern`` (fnmatch) in targets matching ``target_pattern`` count as
    accepted from ``created_at`` until ``expires_at`` or an earlier revocation."""

    id: int
    check_id: str
    resource_pattern: str
    target_pattern: str
    reason: str
    approved_by: str
    created_at: datetime
    expires_at: datetime
    created_by: str
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None

    def active_at(self, at: datetime) -> bool:
        """Whether the exception applies at ``at``: created, not expired, not yet revoked."""
        revoked = self.revoked_at is not None and self.revoked_at <= at
        return self.created_at <= at < self.expires_at and not revoked


@dataclass(frozen=True)
class Tombstone:
    """What ``prune`` removed: a prefix of the chain, summarised so the rest still verifies.

    ``previous_hash`` is the chain link of the first pruned record (GENESIS or the previous
    tombstone's ``last_hash``); the first remaining record links to ``last_hash``.
    """

    id: int
    pruned_at: datetime
    before: datetime
    count: int
    first_id: int
    last_id: int
    first_hash: str
    last_hash: str
    previous_hash: str


ProblemKind = Literal[
    "hash_mismatch",
    "chain_link",
    "observation_content",
    "unsealed_column",
    "blob_content",
    "row_seal",
    "tombstone",
    "ledger",
    "ledger_row",
    "checkpoint",
    "unanchored",
]


@dataclass(frozen=True)
class IntegrityProblem:
    """The first thing ``verify`` found broken."""

    kind: ProblemKind
    record_id: int | None  # evidence id, manual item id, exception id or tombstone id
    detail: str


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the chain heads at one moment (see ``storage.checkpoint``):
    ``records`` evidence records were ever appended (pruned ones included), the last being
    ``head``; the ledger had ``ledger`` entries, the last being ``ledger_head``."""

    at: datetime
    records: int
    head: str
    ledger: int
    ledger_head: str
    key: str  # fingerprint of the key that signed it
    name: str = ""  # where it was read from (anchor object or file name)


@dataclass(frozen=True)
class VerifyReport:
    """Result of ``EvidenceStore.verify_report``: counts and the first problem, if any."""

    records: int
    blobs: int
    items: int  # manual evidence items, exceptions and revocations whose row seal was checked
    tombstones: int
    problem: IntegrityProblem | None
    position: int = 0  # evidence records ever appended (pruned included)
    head: str = "0" * 64  # hash of the last one
    ledger: int = 0  # ledger entries
    ledger_head: str = "0" * 64
    checkpoints: int = 0  # anchored checkpoints checked
    unanchored: int = 0  # evidence records after the newest checkpoint

    @property
    def intact(self) -> bool:
        return self.problem is None


AlertState = Literal["none", "pending", "delivered", "failed"]


@dataclass(frozen=True)
class Transition:
    """A control's status changed from ``from_state`` (None: first seen) to ``to_state``.

    States are ``ControlState`` values, with ``+at_risk`` appended while evidence nears its
    maximum age (``passing+at_risk``). ``alert_state`` is the alert's delivery state.
    """

    id: int
    control_id: str
    from_state: str | None
    to_state: str
    at: datetime
    reasons: tuple[str, ...]
    alert_state: AlertState
    alerted_at: datetime | None = None


@dataclass(frozen=True)
class Heads:
    """Where the chains stand: what a checkpoint signs."""

    records: int
    head: str
    ledger: int
    ledger_head: str
