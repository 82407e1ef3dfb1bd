"""Plain, immutable records exchanged with the evidence store (no SQLAlchemy here)."""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Literal

EvidenceStatus = Literal["pass", "fail", "error", "not_applicable"]
RunOutcome = Literal["running", "complete", "partial", "interrupted"]


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
