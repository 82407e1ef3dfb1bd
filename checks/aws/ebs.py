"""EBS volume checks: every volume is encrypted, per region."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class EbsVolume(SnapshotPart):
    volume_id: str
    arn: str
    encrypted: bool


class EbsVolumes(_AwsSnapshot):
    """Every EBS volume in one region."""

    resource_noun: ClassVar[str] = "volumes"

    region: str
    volumes: tuple[EbsVolume, ...]


@check(
    id="aws.ec2.ebs_volumes_encrypted",
    title="EBS volumes are encrypted",
    severity="medium",
    interval="24h",
    remediation="EBS cannot encrypt a volume in place: snapshot it, copy the snapshot with "
    "encryption, create a volume from the copy and swap it in; then turn on EBS encryption by "
    "default so new volumes are encrypted.",
)
def ebs_volumes_encrypted(snapshot: EbsVolumes) -> Iterator[Finding]:
    """One finding per volume."""
    for volume in snapshot.volumes:
        state = "encrypted" if volume.encrypted else "not encrypted"
        yield Finding(
            resource=volume.arn,
            passed=volume.encrypted,
            message=f"{volume.volume_id} is {state}",
        )
