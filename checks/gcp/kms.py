"""Cloud KMS check: symmetric keys rotate automatically within the rotation period."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from checks.api import Finding, check
from checks.gcp.models import GcpKmsKeys

#: Primary versions that no longer encrypt: the key is out of use and not judged.
_RETIRED = frozenset({"DESTROYED", "DESTROY_SCHEDULED"})


@check(
    id="gcp.kms.key_rotation",
    title="Symmetric KMS keys rotate automatically within the rotation period",
    severity="medium",
    interval="24h",
    remediation="gcloud kms keys update <key> --keyring <ring> --location <loc> "
    "--rotation-period=90d --next-rotation-time=<time>.",
)
def key_rotation(snapshot: GcpKmsKeys) -> Iterator[Finding]:
    """Only ENCRYPT_DECRYPT keys support automatic rotation; asymmetric and MAC keys and keys
    whose primary version is destroyed are not judged. Passes when ``rotationPeriod`` is at
    most the limit and a ``nextRotationTime`` is scheduled."""
    limit = timedelta(days=snapshot.max_rotation_days)
    for key in snapshot.keys:
        if key.purpose != "ENCRYPT_DECRYPT" or key.primary_state in _RETIRED:
            continue
        period = key.rotation_period
        passed = period is not None and period <= limit and key.next_rotation_time is not None
        if period is None:
            message = "no automatic rotation"
        elif key.next_rotation_time is None:
            message = f"rotation every {period.days} days but none scheduled"
        else:
            message = f"rotation every {period.days} days (limit {snapshot.max_rotation_days})"
        yield Finding(resource=key.resource, passed=passed, message=message)
