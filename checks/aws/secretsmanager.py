"""Secrets Manager checks: secrets rotate automatically (judged on metadata only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class ManagedSecret(SnapshotPart):
    """A secret's name, ARN and rotation flag; never its value."""

    name: str
    arn: str
    rotation_enabled: bool


class ManagedSecrets(_AwsSnapshot):
    """Every secret listed in one region (ListSecrets metadata; no value is ever fetched)."""

    resource_noun: ClassVar[str] = "secrets"

    region: str
    items: tuple[ManagedSecret, ...]


@check(
    id="aws.secretsmanager.rotation_enabled",
    title="Secrets Manager secrets rotate automatically",
    severity="medium",
    interval="24h",
    remediation="Configure rotation (aws secretsmanager rotate-secret --secret-id <id> "
    "--rotation-lambda-arn <fn> --rotation-rules AutomaticallyAfterDays=30), or use managed "
    "rotation for RDS and other supported services.",
)
def rotation_enabled(snapshot: ManagedSecrets) -> Iterator[Finding]:
    """One finding per secret."""
    for item in snapshot.items:
        yield Finding(
            resource=item.arn,
            passed=item.rotation_enabled,
            message=f"rotation {'on' if item.rotation_enabled else 'off'} for {item.name}",
        )
