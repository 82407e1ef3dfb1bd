"""DynamoDB checks: point-in-time recovery on every table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class DynamoTable(SnapshotPart):
    name: str
    arn: str
    pitr_enabled: bool


class DynamoTables(_AwsSnapshot):
    """Every table in one region with its point-in-time recovery status."""

    resource_noun: ClassVar[str] = "tables"

    region: str
    tables: tuple[DynamoTable, ...]


@check(
    id="aws.dynamodb.pitr_enabled",
    title="DynamoDB tables have point-in-time recovery",
    severity="medium",
    interval="24h",
    remediation="aws dynamodb update-continuous-backups --table-name <table> "
    "--point-in-time-recovery-specification PointInTimeRecoveryEnabled=true",
)
def pitr_enabled(snapshot: DynamoTables) -> Iterator[Finding]:
    """One finding per table."""
    for table in snapshot.tables:
        yield Finding(
            resource=table.arn,
            passed=table.pitr_enabled,
            message=f"point-in-time recovery {'on' if table.pitr_enabled else 'off'} "
            f"for {table.name}",
        )
