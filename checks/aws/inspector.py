"""Amazon Inspector checks: vulnerability scanning is on for EC2 and ECR."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, check
from checks.aws.models import _AwsSnapshot

REQUIRED_SCANS = ("ec2", "ecr")


class InspectorStatus(_AwsSnapshot):
    """The account's Inspector (inspector2) status in one region, per resource type."""

    resource_noun: ClassVar[str] = "regions"

    region: str
    arn: str  # arn:aws:inspector2:<region>:<account>:account-status (annexa's convention)
    state: str  # ENABLED, DISABLED, ENABLING, DISABLING, SUSPENDED, ...
    resource_states: dict[str, str]  # ec2, ecr, lambda, lambdaCode -> status


@check(
    id="aws.inspector.enabled",
    title="Amazon Inspector scans EC2 and ECR",
    severity="high",
    interval="24h",
    remediation="aws inspector2 enable --resource-types EC2 ECR in every region you use (or "
    "from the delegated administrator for the whole organization).",
)
def inspector_enabled(snapshot: InspectorStatus) -> Iterator[Finding]:
    """One finding per region: EC2 and ECR scanning must both be ENABLED."""
    off = [t for t in REQUIRED_SCANS if snapshot.resource_states.get(t) != "ENABLED"]
    states = ", ".join(f"{t}: {snapshot.resource_states.get(t, 'unknown')}" for t in REQUIRED_SCANS)
    yield Finding(
        resource=snapshot.arn,
        passed=not off,
        message=f"Inspector in {snapshot.region} is {snapshot.state} ({states})",
    )
