"""ECR collector: repositories and the registry scanning configuration, per region."""

from __future__ import annotations

from checks.aws.ecr import EcrRepositories, EcrRepository, ScanRule
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    EcrRepositories,
    permissions=["ecr:DescribeRepositories", "ecr:GetRegistryScanningConfiguration"],
    scope="region",
)
def ecr_repositories(scope: AwsScope) -> EcrRepositories:
    """DescribeRepositories (paginated) and GetRegistryScanningConfiguration once."""
    ecr = scope.client("ecr")
    config = ecr.get_registry_scanning_configuration()["scanningConfiguration"]
    repositories = [
        EcrRepository(
            name=r["repositoryName"],
            arn=r["repositoryArn"],
            scan_on_push=bool((r.get("imageScanningConfiguration") or {}).get("scanOnPush")),
        )
        for page in ecr.get_paginator("describe_repositories").paginate()
        for r in page.get("repositories", [])
    ]
    rules = [
        ScanRule(
            frequency=rule["scanFrequency"],
            filters=tuple(f["filter"] for f in rule.get("repositoryFilters", [])),
        )
        for rule in config.get("rules", [])
    ]
    return EcrRepositories(
        region=scope.region,
        scan_type=config.get("scanType", "BASIC"),
        rules=tuple(rules),
        repositories=tuple(repositories),
    )
