"""Intune compliance policy content: each platform in use requires a screen lock within the
allowed idle time and encrypted storage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, Snapshot, SnapshotPart, check


class CompliancePolicy(SnapshotPart):
    """The parts of a device compliance policy this check judges (None: not set)."""

    id: str
    name: str
    platform: str  # Windows, macOS, iOS, Android (from the policy's @odata.type)
    assigned: bool  # the policy has at least one assignment
    password_required: bool
    lock_minutes: int | None  # minutes of inactivity before the screen locks
    encryption_required: bool  # BitLocker / storage encryption (iOS: implied by a passcode)


class CompliancePolicies(Snapshot):
    provider: ClassVar[str] = "intune"
    resource_noun: ClassVar[str] = "platforms"
    tenant: str
    platforms: tuple[str, ...]  # operating systems of the managed devices
    max_lock_minutes: int
    policies: tuple[CompliancePolicy, ...]


def _gaps(policy: CompliancePolicy, max_minutes: int) -> list[str]:
    gaps = []
    if not policy.password_required:
        gaps.append("no password required")
    if policy.lock_minutes is None:
        gaps.append("no inactivity lock")
    elif policy.lock_minutes > max_minutes:
        gaps.append(f"locks after {policy.lock_minutes} min")
    if not policy.encryption_required:
        gaps.append("encryption not required")
    return gaps


@check(
    id="intune.compliance_policies.lock_and_encryption",
    title="Each platform in use has an assigned compliance policy requiring screen lock and "
    "encryption",
    severity="medium",
    interval="24h",
    remediation="Assign a compliance policy per platform requiring a password, a screen lock "
    "within azure.intune.screen_lock_max_minutes of inactivity and encryption (BitLocker or "
    "storage encryption).",
)
def lock_and_encryption(snapshot: CompliancePolicies) -> Iterator[Finding]:
    """One finding per platform with managed devices: some assigned policy for it requires a
    password, locks within the allowed idle time and requires encryption."""
    for platform in snapshot.platforms:
        mine = [p for p in snapshot.policies if p.platform == platform and p.assigned]
        good = [p.name for p in mine if not _gaps(p, snapshot.max_lock_minutes)]
        if good:
            message = f"required by {', '.join(good)}"
        elif mine:
            message = "; ".join(
                f"{p.name!r}: {', '.join(_gaps(p, snapshot.max_lock_minutes))}" for p in mine
            )
        else:
            message = "no assigned compliance policy for this platform"
        yield Finding(resource=f"{snapshot.tenant}/{platform}", passed=bool(good), message=message)
