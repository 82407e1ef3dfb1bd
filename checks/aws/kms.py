"""KMS checks: automatic rotation of customer-managed symmetric keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class KmsKey(SnapshotPart):
    key_id: str
    arn: str
    manager: str  # "CUSTOMER" or "AWS"
    state: str  # Enabled, Disabled, PendingDeletion, ...
    spec: str  # SYMMETRIC_DEFAULT, RSA_2048, HMAC_256, ...
    origin: str  # AWS_KMS, EXTERNAL, AWS_CLOUDHSM, EXTERNAL_KEY_STORE
    rotation_enabled: bool | None  # None: not asked (the key is out of rotation scope)

    @property
    def rotatable(self) -> bool:
        """In scope: customer-managed, enabled, symmetric, with KMS-generated key material."""
        return (
            self.manager == "CUSTOMER"
            and self.state == "Enabled"
            and self.spec == "SYMMETRIC_DEFAULT"
            and self.origin == "AWS_KMS"
        )


class KmsKeys(_AwsSnapshot):
    """Every KMS key in one region; rotation status only for keys in scope."""

    resource_noun: ClassVar[str] = "keys"

    region: str
    keys: tuple[KmsKey, ...]


@check(
    id="aws.kms.key_rotation_enabled",
    title="Customer-managed KMS keys rotate automatically",
    severity="medium",
    interval="24h",
    remediation="aws kms enable-key-rotation --key-id <key> (optionally with "
    "--rotation-period-in-days).",
)
def key_rotation_enabled(snapshot: KmsKeys) -> Iterator[Finding]:
    """Out of scope, and so not judged: AWS-managed keys (AWS rotates them yearly),
    asymmetric and HMAC keys, imported or external key material (KMS cannot rotate those)
    and keys that are not enabled."""
    for key in snapshot.keys:
        if not key.rotatable:
            continue
        yield Finding(
            resource=key.arn,
            passed=bool(key.rotation_enabled),
            message=f"automatic rotation {'on' if key.rotation_enabled else 'off'} "
            f"for {key.key_id}",
        )
