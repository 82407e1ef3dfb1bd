"""Service control policies, read from the organization's management account."""

from __future__ import annotations

from checks.aws.scps import OrganizationScps, ServiceControlPolicy
from collector.aws.paging import each, pages
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    OrganizationScps,
    permissions=[
        "organizations:DescribeOrganization",
        "organizations:ListRoots",
        "organizations:ListPolicies",
        "organizations:ListTargetsForPolicy",
    ],
    scope="account",
)
def organization_scps(scope: AwsScope) -> OrganizationScps:
    """An account outside any organization, or a member account (AccessDenied), is an ERROR
    with AWS's own message: only the management account can answer."""
    client = scope.client("organizations")
    organization = client.describe_organization()["Organization"]
    (root,) = pages(client, "list_roots", "Roots")
    enabled = any(
        t["Type"] == "SERVICE_CONTROL_POLICY" and t["Status"] == "ENABLED"
        for t in root.get("PolicyTypes", [])
    )
    listed = [
        p
        for p in pages(client, "list_policies", "Policies", Filter="SERVICE_CONTROL_POLICY")
        if not p.get("AwsManaged", False)
    ]

    def targets(policy: dict) -> tuple[str, ...]:
        found = pages(client, "list_targets_for_policy", "Targets", PolicyId=policy["Id"])
        return tuple(t["TargetId"] for t in found)

    return OrganizationScps(
        organization_arn=organization["Arn"],
        root_id=root["Id"],
        scp_enabled=enabled,
        policies=tuple(
            ServiceControlPolicy(policy_id=p["Id"], arn=p["Arn"], name=p["Name"], targets=t)
            for p, t in zip(listed, each(targets, listed), strict=True)
        ),
    )
