"""Security Hub standards: no critical or high control of the enabled standards is failing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class FailedControl(SnapshotPart):
    """One active, unsuppressed FAILED control finding of critical or high severity."""

    control: str  # SecurityControlId (S3.8), or the standard's control id
    severity: str  # CRITICAL, HIGH
    resource: str  # the first resource the finding names


class SecurityHubFailures(_AwsSnapshot):
    """The region's hub (``enabled`` False: nothing to judge) and its failing controls."""

    resource_noun: ClassVar[str] = "regions"

    region: str
    arn: str
    enabled: bool
    standards: tuple[str, ...]  # READY standard ARNs
    failed: tuple[FailedControl, ...]


@check(
    id="aws.securityhub.controls_passing",
    title="No critical or high Security Hub standard control is failing",
    severity="medium",
    interval="12h",
    remediation="Fix the resources each failing control names (Security Hub > Controls, "
    "filter FAILED), or suppress a finding with the reason when the risk is accepted.",
)
def controls_passing(snapshot: SecurityHubFailures) -> Iterator[Finding]:
    """One finding per region whose hub runs a READY standard; a region without one is left to
    ``aws.securityhub.enabled``."""
    if not (snapshot.enabled and snapshot.standards):
        return
    counts = Counter((c.control, c.severity) for c in snapshot.failed)
    listed = ", ".join(
        f"{control} {severity.lower()} ({n} resource{'s' if n > 1 else ''})"
        for (control, severity), n in sorted(counts.items())
    )
    yield Finding(
        resource=snapshot.arn,
        passed=not counts,
        message=f"failing: {listed}" if counts else "no critical or high control failing",
    )
