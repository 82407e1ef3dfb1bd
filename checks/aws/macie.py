"""Amazon Macie: automated sensitive data discovery samples the region's S3 buckets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, check
from checks.aws.models import _AwsSnapshot


class MacieStatus(_AwsSnapshot):
    """Macie in one region: the account's session status (``None``: Macie not enabled) and,
    when enabled, the automated sensitive data discovery status."""

    resource_noun: ClassVar[str] = "regions"

    region: str
    arn: str  # arn:aws:macie2:<region>:<account>:configuration/automated-discovery
    session: str | None  # ENABLED, PAUSED
    discovery: str | None  # ENABLED, DISABLED


@check(
    id="aws.macie.sensitive_data_discovery",
    title="Macie automated sensitive data discovery is on in every region",
    severity="medium",
    interval="24h",
    remediation="aws macie2 enable-macie, then aws macie2 update-automated-discovery-"
    "configuration --status ENABLED, in each region (or from the Macie delegated administrator).",
)
def sensitive_data_discovery(snapshot: MacieStatus) -> Iterator[Finding]:
    """One finding per region: Macie ENABLED and automated discovery ENABLED."""
    if snapshot.session is None:
        message = "Macie is not enabled"
    elif snapshot.session != "ENABLED":
        message = f"Macie is {snapshot.session}"
    else:
        message = f"automated sensitive data discovery {snapshot.discovery}"
    yield Finding(
        resource=snapshot.arn,
        passed=snapshot.session == "ENABLED" and snapshot.discovery == "ENABLED",
        message=message,
    )
