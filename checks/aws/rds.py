"""RDS checks over DB instances and DB clusters: encryption, exposure, backups, Multi-AZ,
storage autoscaling.

An instance that belongs to a DB cluster (Aurora, Multi-AZ DB clusters) is judged only for
public accessibility: its encryption, backup retention and availability are cluster settings,
so the cluster itself (``DescribeDBClusters``) is judged for those.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot

MIN_BACKUP_RETENTION_DAYS = 7


class RdsInstance(SnapshotPart):
    identifier: str
    arn: str
    engine: str
    cluster: str | None  # DBClusterIdentifier, when the instance is a cluster member
    storage_encrypted: bool
    publicly_accessible: bool
    backup_retention_days: int
    multi_az: bool
    allocated_gib: int = 0  # AllocatedStorage
    max_allocated_gib: int | None = None  # MaxAllocatedStorage: set only when autoscaling is on


class RdsCluster(SnapshotPart):
    identifier: str
    arn: str
    engine: str  # aurora-mysql, aurora-postgresql, mysql / postgres (Multi-AZ DB cluster)...
    storage_encrypted: bool
    backup_retention_days: int
    multi_az: bool  # members in more than one Availability Zone
    members: int


class RdsInstances(_AwsSnapshot):
    """Every DB instance and DB cluster in one region."""

    resource_noun: ClassVar[str] = "DB instances and clusters"

    region: str
    instances: tuple[RdsInstance, ...]
    clusters: tuple[RdsCluster, ...] = ()

    @property
    def standalone(self) -> tuple[RdsInstance, ...]:
        return tuple(i for i in self.instances if i.cluster is None)


@check(
    id="aws.rds.storage_encrypted",
    version=2,
    title="RDS DB instances and clusters encrypt storage",
    severity="medium",
    interval="24h",
    remediation="Encryption is set at creation: snapshot the instance, copy the snapshot with "
    "a KMS key, restore from the encrypted copy and switch over.",
)
def storage_encrypted(snapshot: RdsInstances) -> Iterator[Finding]:
    """Standalone instances and clusters (a cluster member's encryption is its cluster's)."""
    for db in (*snapshot.standalone, *snapshot.clusters):
        state = "encrypted" if db.storage_encrypted else "not encrypted"
        yield Finding(
            resource=db.arn, passed=db.storage_encrypted, message=f"{db.identifier} storage {state}"
        )


@check(
    id="aws.rds.not_publicly_accessible",
    title="RDS DB instances are not publicly accessible",
    severity="high",
    interval="6h",
    remediation="aws rds modify-db-instance --db-instance-identifier <id> "
    "--no-publicly-accessible --apply-immediately; reach the database from inside the VPC.",
)
def not_publicly_accessible(snapshot: RdsInstances) -> Iterator[Finding]:
    """Every instance, cluster members included."""
    for db in snapshot.instances:
        yield Finding(
            resource=db.arn,
            passed=not db.publicly_accessible,
            message=f"{db.identifier} is "
            + ("publicly accessible" if db.publicly_accessible else "private"),
        )


@check(
    id="aws.rds.backup_retention",
    version=2,
    title=f"RDS automated backups are kept at least {MIN_BACKUP_RETENTION_DAYS} days",
    severity="medium",
    interval="24h",
    remediation="aws rds modify-db-instance --db-instance-identifier <id> "
    f"--backup-retention-period {MIN_BACKUP_RETENTION_DAYS} (or longer, per your backup policy).",
)
def backup_retention(snapshot: RdsInstances) -> Iterator[Finding]:
    """Standalone instances and clusters; retention 0 means automated backups are off."""
    for db in (*snapshot.standalone, *snapshot.clusters):
        days = db.backup_retention_days
        yield Finding(
            resource=db.arn,
            passed=days >= MIN_BACKUP_RETENTION_DAYS,
            message=f"{db.identifier} keeps automated backups {days} day(s)"
            if days
            else f"{db.identifier} has automated backups off",
        )


@check(
    id="aws.rds.multi_az",
    version=2,
    title="RDS DB instances and clusters are Multi-AZ",
    severity="low",
    interval="24h",
    remediation="aws rds modify-db-instance --db-instance-identifier <id> --multi-az "
    "(applied in the next maintenance window unless --apply-immediately).",
)
def multi_az(snapshot: RdsInstances) -> Iterator[Finding]:
    """Standalone instances, and clusters by their members' Availability Zones."""
    for db in (*snapshot.standalone, *snapshot.clusters):
        yield Finding(
            resource=db.arn,
            passed=db.multi_az,
            message=f"{db.identifier} is " + ("Multi-AZ" if db.multi_az else "single-AZ"),
        )


@check(
    id="aws.rds.storage_autoscaling",
    title="RDS DB instances grow their storage automatically",
    severity="low",
    interval="24h",
    remediation="aws rds modify-db-instance --db-instance-identifier <id> "
    "--max-allocated-storage <GiB above the current size> --apply-immediately.",
)
def storage_autoscaling(snapshot: RdsInstances) -> Iterator[Finding]:
    """Standalone instances (Aurora cluster storage grows by itself): a storage ceiling above
    the allocated size turns autoscaling on."""
    for db in snapshot.standalone:
        ceiling = db.max_allocated_gib
        on = ceiling is not None and ceiling > db.allocated_gib
        yield Finding(
            resource=db.arn,
            passed=on,
            message=f"{db.identifier} storage {db.allocated_gib} GiB, "
            + (f"grows up to {ceiling} GiB" if on else "no autoscaling"),
        )
