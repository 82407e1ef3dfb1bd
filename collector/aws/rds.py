"""RDS collector: one DescribeDBInstances sweep per region."""

from __future__ import annotations

from checks.aws.rds import RdsInstance, RdsInstances
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(RdsInstances, permissions=["rds:DescribeDBInstances"], scope="region")
def rds_instances(scope: AwsScope) -> RdsInstances:
    """Every DB instance in the region with the settings the RDS checks judge."""
    instances = [
        RdsInstance(
            identifier=db["DBInstanceIdentifier"],
            arn=db["DBInstanceArn"],
            engine=db["Engine"],
            cluster=db.get("DBClusterIdentifier"),
            storage_encrypted=bool(db.get("StorageEncrypted", False)),
            publicly_accessible=bool(db.get("PubliclyAccessible", False)),
            backup_retention_days=int(db.get("BackupRetentionPeriod", 0)),
            multi_az=bool(db.get("MultiAZ", False)),
        )
        for page in scope.client("rds").get_paginator("describe_db_instances").paginate()
        for db in page.get("DBInstances", [])
    ]
    return RdsInstances(region=scope.region, instances=tuple(instances))
