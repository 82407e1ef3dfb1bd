"""Amazon Inspector checks: scanning is on for EC2 and ECR; critical and high findings are
fixed within their deadline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Finding, check
from checks.aws.models import _AwsSnapshot
from checks.deadlines import DeadlineDays, OpenFinding, judge_open

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


class InspectorFindings(_AwsSnapshot):
    """One region's ACTIVE critical and high Inspector findings, with the deadlines to judge."""

    resource_noun: ClassVar[str] = "critical and high findings"

    region: str
    arn: str  # the region's account-status ARN: the verdict when nothing is open
    scanning: tuple[str, ...]  # resource types Inspector scans here (ENABLED)
    collected_at: AwareDatetime
    deadline_days: DeadlineDays
    items: tuple[OpenFinding, ...]


@check(
    id="aws.inspector.findings_within_deadline",
    title="Critical and high Inspector findings are fixed within their deadline",
    severity="high",
    interval="24h",
    remediation="Patch or rebuild the affected instance, image or function (Inspector closes the "
    "finding on its next scan), or suppress it with a documented risk acceptance.",
)
def findings_within_deadline(snapshot: InspectorFindings) -> Iterator[Finding]:
    """One verdict per active critical or high finding; none open passes the region only when
    Inspector scans something in it (no scanning: nothing was looked for)."""
    yield from judge_open(snapshot.items, snapshot.collected_at, snapshot.deadline_days)
    if not snapshot.items:
        scans = ", ".join(snapshot.scanning)
        yield Finding(
            resource=snapshot.arn,
            passed=bool(snapshot.scanning),
            message=f"no active critical or high findings in {snapshot.region} (scanning {scans})"
            if scans
            else f"Inspector scans nothing in {snapshot.region}: findings unknown",
        )
