"""RDS collector: one DescribeDBInstances and one DescribeDBClusters sweep per region."""

from __future__ import annotations

from checks.aws.rds import RdsCluster, RdsInstance, RdsInstances
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    RdsInstances, permissions=["rds:DescribeDBInstances", "rds:DescribeDBClusters"], scope="region"
)
def rds_instances(scope: AwsScope) -> RdsInstances:
    """Every DB instance and DB cluster in the region with the settings the checks judge."""
    rds = scope.client("rds")
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
            allocated_gib=int(db.get("AllocatedStorage") or 0),
            max_allocated_gib=db.get("MaxAllocatedStorage"),
        )
        for page in rds.get_paginator("describe_db_instances").paginate()
        for db in page.get("DBInstances", [])
    ]
    clusters = [
        RdsCluster(
            identifier=db["DBClusterIdentifier"],
            arn=db["DBClusterArn"],
            engine=db["Engine"],
            storage_encrypted=bool(db.get("StorageEncrypted", False)),
            backup_retention_days=int(db.get("BackupRetentionPeriod", 0)),
            multi_az=bool(db.get("MultiAZ", False)),
            members=len(db.get("DBClusterMembers") or ()),
        )
        for page in rds.get_paginator("describe_db_clusters").paginate()
        for db in page.get("DBClusters", [])
    ]
    return RdsInstances(region=scope.region, instances=tuple(instances), clusters=tuple(clusters))
