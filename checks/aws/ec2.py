"""EC2 checks: EBS encryption by default, per region."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.aws.models import EbsEncryptionByDefault


@check(
    id="aws.ec2.ebs_encryption_by_default",
    title="EBS encryption by default is on",
    severity="medium",
    interval="24h",
    remediation="Enable EBS encryption by default in every region you use "
    "(ec2 enable-ebs-encryption-by-default); the resource is "
    "arn:aws:ec2:<region>:<account>:ebs-encryption-by-default.",
)
def ebs_encryption_by_default(setting: EbsEncryptionByDefault) -> Iterator[Finding]:
    """One finding per region."""
    state = "on" if setting.enabled else "off"
    yield Finding(
        resource=setting.arn,
        passed=setting.enabled,
        message=f"EBS encryption by default is {state} in {setting.region}",
    )
