"""EC2 instance checks: the instance metadata service requires IMDSv2 session tokens."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class Ec2Instance(SnapshotPart):
    """Only what the verdict needs: never user data, tags or network details."""

    instance_id: str
    arn: str
    state: str
    http_tokens: str | None  # "required" or "optional"


class Ec2Instances(_AwsSnapshot):
    """Every pending, running or stopped instance in one region."""

    resource_noun: ClassVar[str] = "instances"

    region: str
    instances: tuple[Ec2Instance, ...]


@check(
    id="aws.ec2.imdsv2_required",
    title="EC2 instances require IMDSv2",
    severity="medium",
    interval="24h",
    remediation="aws ec2 modify-instance-metadata-options --instance-id <id> --http-tokens "
    "required; set it in launch templates, and make it the account default per region "
    "(modify-instance-metadata-defaults).",
)
def imdsv2_required(snapshot: Ec2Instances) -> Iterator[Finding]:
    """``HttpTokens: optional`` still answers IMDSv1 requests, the SSRF credential-theft path."""
    for instance in snapshot.instances:
        tokens = instance.http_tokens or "unknown"
        yield Finding(
            resource=instance.arn,
            passed=instance.http_tokens == "required",
            message=f"{instance.instance_id} ({instance.state}) HttpTokens: {tokens}",
        )
