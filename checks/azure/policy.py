"""Azure Policy compliance: the baseline assigned as policy holds on every resource."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.azure.models import _AzureSnapshot


class AssignmentCompliance(SnapshotPart):
    id: str  # policyAssignmentId
    non_compliant_resources: int
    non_compliant_policies: int


class PolicyCompliance(_AzureSnapshot):
    """The latest policy-state summary of one subscription: totals and per assignment."""

    resource_noun: ClassVar[str] = "policy assignments"
    subscription: str
    non_compliant_resources: int  # across every assignment
    assignments: tuple[AssignmentCompliance, ...]


@check(
    id="azure.policy.assignments_compliant",
    title="Azure Policy reports no non-compliant resources",
    severity="medium",
    interval="12h",
    remediation="Fix the resources each non-compliant assignment lists (Policy > Compliance), "
    "run a remediation task, or change the assignment if the baseline changed.",
)
def assignments_compliant(snapshot: PolicyCompliance) -> Iterator[Finding]:
    """One finding per assignment the summary lists, and one for the subscription's total
    (which counts every assignment, also any the summary leaves out)."""
    if not snapshot.assignments and not snapshot.non_compliant_resources:
        return
    for item in snapshot.assignments:
        yield Finding(
            resource=item.id,
            passed=item.non_compliant_resources == 0,
            message=f"{item.non_compliant_resources} non-compliant resources under "
            f"{item.non_compliant_policies} policies",
        )
    total = snapshot.non_compliant_resources
    yield Finding(
        resource=snapshot.subscription,
        passed=total == 0,
        message=f"{total} non-compliant resources across all assignments",
    )
