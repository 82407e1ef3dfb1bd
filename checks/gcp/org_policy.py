"""Organisation policy constraints: the required ones are enforced at the organisation and no
folder or project below it weakens them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.gcp.models import _GcpSnapshot


class ConstraintPolicy(SnapshotPart):
    """One organisation policy (the v1 ``Policy`` shape) set on one node of the hierarchy."""

    node: str  # organizations/1, folders/2, projects/3
    constraint: str  # without the constraints/ prefix
    enforced: bool | None = None  # booleanPolicy.enforced; None: not a boolean policy
    all_values: str | None = None  # listPolicy.allValues: ALLOW or DENY
    allowed_values: tuple[str, ...] = ()
    denied_values: tuple[str, ...] = ()
    inherit_from_parent: bool = False
    restore_default: bool = False

    def restricts(self) -> bool:
        """True when this policy, on its own, keeps the constraint's restriction in force."""
        if self.restore_default or self.all_values == "ALLOW":
            return False
        if self.enforced is not None:
            return self.enforced
        return self.all_values == "DENY" or bool(self.allowed_values)

    def keeps_parent(self) -> bool:
        """A list policy merged with its parent's (not reset, not allow-all) keeps it."""
        return self.inherit_from_parent and not self.restore_default and self.all_values != "ALLOW"


class GcpOrgPolicies(_GcpSnapshot):
    """The organisation's policies on every node (Cloud Asset ``ORG_POLICY`` content)."""

    resource_noun: ClassVar[str] = "required constraints"

    organization: str  # organizations/<id>
    required: tuple[str, ...]
    policies: tuple[ConstraintPolicy, ...]


@check(
    id="gcp.orgpolicy.constraints_enforced",
    title="Required organisation policy constraints are enforced and not overridden",
    severity="high",
    interval="24h",
    remediation="gcloud resource-manager org-policies enable-enforce (boolean) or set-policy "
    "(list) at the organisation; remove folder and project policies that switch it off.",
)
def constraints_enforced(snapshot: GcpOrgPolicies) -> Iterator[Finding]:
    """One finding per required constraint at the organisation, and one per folder or project
    policy that weakens it below."""
    for constraint in snapshot.required:
        mine = [p for p in snapshot.policies if p.constraint == constraint]
        root = [p for p in mine if p.node == snapshot.organization]
        enforced = bool(root) and root[0].restricts()
        yield Finding(
            resource=f"{snapshot.organization}/policies/{constraint}",
            passed=enforced,
            message=f"{constraint} {'enforced' if enforced else 'not enforced'} at "
            f"{snapshot.organization}",
        )
        for policy in mine:
            if policy.node == snapshot.organization or policy.restricts() or policy.keeps_parent():
                continue
            yield Finding(
                resource=f"{policy.node}/policies/{constraint}",
                passed=False,
                message=f"{constraint} switched off at {policy.node}",
            )
