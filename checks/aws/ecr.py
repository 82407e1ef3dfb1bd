"""ECR checks: images are scanned on push (by the repository or the registry's rules)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot

#: Registry rule frequencies that scan an image when it is pushed.
ON_PUSH = frozenset({"SCAN_ON_PUSH", "CONTINUOUS_SCAN"})


class ScanRule(SnapshotPart):
    frequency: str  # SCAN_ON_PUSH, CONTINUOUS_SCAN, MANUAL
    filters: tuple[str, ...]  # WILDCARD repository filters ("*" matches any run)

    def matches(self, repository: str) -> bool:
        return any(
            re.fullmatch(".*".join(map(re.escape, f.split("*"))), repository) for f in self.filters
        )


class EcrRepository(SnapshotPart):
    name: str
    arn: str
    scan_on_push: bool  # the repository-level setting


class EcrRepositories(_AwsSnapshot):
    """Every repository in one region and the registry's scanning configuration."""

    resource_noun: ClassVar[str] = "repositories"

    region: str
    scan_type: str  # BASIC or ENHANCED
    rules: tuple[ScanRule, ...]
    repositories: tuple[EcrRepository, ...]


@check(
    id="aws.ecr.scan_on_push",
    title="ECR images are scanned on push",
    severity="medium",
    interval="24h",
    remediation="Add a registry scanning rule (aws ecr put-registry-scanning-configuration) "
    "with SCAN_ON_PUSH or, with enhanced scanning, CONTINUOUS_SCAN and a filter matching every "
    "repository (*).",
)
def scan_on_push(snapshot: EcrRepositories) -> Iterator[Finding]:
    """Registry rules decide when present (enhanced scanning ignores the repository setting);
    with basic scanning the repository's own scan-on-push also counts."""
    for repo in snapshot.repositories:
        rule = next(
            (r for r in snapshot.rules if r.frequency in ON_PUSH and r.matches(repo.name)), None
        )
        if rule is not None:
            passed = True
            message = (
                f"{repo.name} scanned by registry rule {rule.frequency} ({snapshot.scan_type})"
            )
        else:
            passed = repo.scan_on_push and snapshot.scan_type == "BASIC"
            message = f"{repo.name} scan on push " + ("on" if passed else "off")
        yield Finding(resource=repo.arn, passed=passed, message=message)
