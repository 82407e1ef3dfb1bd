"""EC2 collector: EBS encryption by default, a per-region account setting."""

from __future__ import annotations

from checks.aws.models import EbsEncryptionByDefault
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(EbsEncryptionByDefault, permissions=["ec2:GetEbsEncryptionByDefault"], scope="region")
def ebs_encryption_by_default(scope: AwsScope) -> EbsEncryptionByDefault:
    """Whether new EBS volumes in the scope's region are encrypted by default."""
    answer = scope.client("ec2").get_ebs_encryption_by_default()
    return EbsEncryptionByDefault(
        region=scope.region,
        arn=scope.arn("ec2", "ebs-encryption-by-default", region=scope.region),
        enabled=bool(answer["EbsEncryptionByDefault"]),
    )
