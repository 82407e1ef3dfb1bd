"""DynamoDB collector: ListTables, then DescribeContinuousBackups per table."""

from __future__ import annotations

from checks.aws.dynamodb import DynamoTable, DynamoTables
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    DynamoTables,
    permissions=["dynamodb:ListTables", "dynamodb:DescribeContinuousBackups"],
    scope="region",
)
def dynamodb_tables(scope: AwsScope) -> DynamoTables:
    """Every table's PITR status; the ARN is built (a table ARN is fixed by region and name)."""
    dynamodb = scope.client("dynamodb")
    tables = []
    for page in dynamodb.get_paginator("list_tables").paginate():
        for name in page.get("TableNames", []):
            backups = dynamodb.describe_continuous_backups(TableName=name)
            pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
            tables.append(
                DynamoTable(
                    name=name,
                    arn=scope.arn("dynamodb", f"table/{name}", region=scope.region),
                    pitr_enabled=pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
                )
            )
    return DynamoTables(region=scope.region, tables=tuple(tables))
