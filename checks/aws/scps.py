"""AWS Organizations: service control policies govern which cloud services accounts may use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class ServiceControlPolicy(SnapshotPart):
    """A customer-managed SCP and the roots, OUs and accounts it is attached to."""

    policy_id: str
    arn: str
    name: str
    targets: tuple[str, ...]  # target ids: r-..., ou-..., or account ids


class OrganizationScps(_AwsSnapshot):
    """The organization's root, whether SCPs are enabled there, and its customer SCPs."""

    resource_noun: ClassVar[str] = "organization roots"

    organization_arn: str
    root_id: str
    scp_enabled: bool
    policies: tuple[ServiceControlPolicy, ...]  # FullAWSAccess (AWS managed) left out


@check(
    id="aws.organizations.scps_attached",
    title="Service control policies restrict the organization's accounts",
    severity="medium",
    interval="24h",
    remediation="Enable the SERVICE_CONTROL_POLICY type on the root (aws organizations "
    "enable-policy-type) and attach guardrail SCPs (allowed regions and services, no leaving "
    "the organization) to the root or the OUs holding workload accounts.",
)
def scps_attached(snapshot: OrganizationScps) -> Iterator[Finding]:
    """One finding on the root: SCPs enabled and one customer SCP attached to the root or an OU."""
    attached = sorted(
        p.name for p in snapshot.policies if any(t.startswith(("r-", "ou-")) for t in p.targets)
    )
    if not snapshot.scp_enabled:
        message, passed = "the SERVICE_CONTROL_POLICY type is not enabled on the root", False
    elif not attached:
        message, passed = "no customer SCP is attached to the root or an OU", False
    else:
        message, passed = f"SCPs on the root or OUs: {', '.join(attached)}", True
    yield Finding(resource=snapshot.organization_arn, passed=passed, message=message)
