"""Typed GCP snapshots: what the built-in GCP checks judge, read from Cloud Asset Inventory.

Resources are named by their full resource name (``//storage.googleapis.com/my-bucket``).
Each snapshot comes from one paged sweep per scope and asset-type set, shared by its checks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Snapshot, SnapshotPart

__all__ = [
    "AuditConfig",
    "Bucket",
    "ComputeProject",
    "CryptoKey",
    "FirewallRule",
    "GcpAuditConfigs",
    "GcpBuckets",
    "GcpCompute",
    "GcpIamPolicies",
    "GcpKmsKeys",
    "GcpNetworks",
    "GcpServiceAccountKeys",
    "GcpSqlInstances",
    "IamBinding",
    "Network",
    "PolicyHolder",
    "ServiceAccountKey",
    "SqlInstance",
]

PUBLIC_MEMBERS = frozenset({"allUsers", "allAuthenticatedUsers"})
PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor"})


class _GcpSnapshot(Snapshot):
    provider: ClassVar[str] = "gcp"


# --- IAM ---------------------------------------------------------------------------------


class IamBinding(SnapshotPart):
    resource: str  # full resource name the policy is set on
    role: str
    members: tuple[str, ...]


class GcpIamPolicies(_GcpSnapshot):
    """Every IAM policy binding in the scope (``searchAllIamPolicies``)."""

    resource_noun: ClassVar[str] = "IAM policies"

    bindings: tuple[IamBinding, ...]

    def by_resource(self) -> dict[str, list[IamBinding]]:
        grouped: dict[str, list[IamBinding]] = {}
        for binding in self.bindings:
            grouped.setdefault(binding.resource, []).append(binding)
        return dict(sorted(grouped.items()))


class AuditConfig(SnapshotPart):
    """One ``auditConfigs`` entry: a service and, per log type, its exempted members."""

    service: str
    log_types: dict[str, tuple[str, ...]]  # DATA_READ -> exempted members


class PolicyHolder(SnapshotPart):
    """A project, folder or organisation and the audit configuration on its IAM policy."""

    resource: str  # //cloudresourcemanager.googleapis.com/projects/123
    name: str  # projects/123
    ancestors: tuple[str, ...]  # folders/4, organizations/5 (nearest first, self excluded)
    audit_configs: tuple[AuditConfig, ...]


class GcpAuditConfigs(_GcpSnapshot):
    """Audit configs of the scope's projects, folders and organisation (IAM_POLICY assets)."""

    resource_noun: ClassVar[str] = "projects"

    holders: tuple[PolicyHolder, ...]

    def effective(self, holder: PolicyHolder) -> list[AuditConfig]:
        """Its own audit configs and those it inherits from ancestors visible in the scope."""
        by_name = {h.name: h for h in self.holders}
        inherited = [by_name[a] for a in holder.ancestors if a in by_name]
        return [c for h in [holder, *inherited] for c in h.audit_configs]


class ServiceAccountKey(SnapshotPart):
    resource: str
    service_account: str
    key_type: str  # USER_MANAGED, SYSTEM_MANAGED
    disabled: bool
    valid_after: AwareDatetime


class GcpServiceAccountKeys(_GcpSnapshot):
    """Service-account keys; ``collected_at`` is "now" for their age."""

    resource_noun: ClassVar[str] = "user-managed keys"

    collected_at: AwareDatetime
    max_age_days: int
    keys: tuple[ServiceAccountKey, ...]


# --- storage, compute ----------------------------------------------------------------------


class Bucket(SnapshotPart):
    resource: str
    uniform_access: bool
    public_access_prevention: str  # enforced, inherited (or unspecified, on old buckets)


class GcpBuckets(_GcpSnapshot):
    resource_noun: ClassVar[str] = "buckets"

    buckets: tuple[Bucket, ...]


class FirewallRule(SnapshotPart):
    resource: str
    direction: str  # INGRESS, EGRESS
    disabled: bool
    source_ranges: tuple[str, ...]
    allowed: tuple[tuple[str, tuple[str, ...]], ...]  # (protocol, ports); no ports: all


class ComputeProject(SnapshotPart):
    """A project with the Compute Engine API on; only its ``enable-oslogin`` metadata value."""

    resource: str
    os_login: str | None  # the project metadata value, None when unset


class GcpCompute(_GcpSnapshot):
    """Firewall rules and Compute Engine project settings (one sweep over both types)."""

    resource_noun: ClassVar[str] = "compute resources"

    firewalls: tuple[FirewallRule, ...]
    projects: tuple[ComputeProject, ...]


class Network(SnapshotPart):
    resource: str
    project: str  # projects/my-proj
    name: str


class GcpNetworks(_GcpSnapshot):
    """VPC networks (``searchAllResources``)."""

    resource_noun: ClassVar[str] = "projects"

    networks: tuple[Network, ...]


# --- Cloud SQL, KMS ------------------------------------------------------------------------


class SqlInstance(SnapshotPart):
    resource: str
    instance_type: str  # CLOUD_SQL_INSTANCE, READ_REPLICA_INSTANCE, ON_PREMISES_INSTANCE
    ipv4_enabled: bool
    authorized_networks: tuple[str, ...]
    require_ssl: bool
    ssl_mode: str | None
    backups_enabled: bool
    database_version: str = ""  # POSTGRES_15, MYSQL_8_0, SQLSERVER_2022_STANDARD, ...
    point_in_time_recovery: bool = False  # PITR (Postgres, SQL Server) or binary log (MySQL)
    availability_type: str = "ZONAL"  # REGIONAL: a standby in a second zone


class GcpSqlInstances(_GcpSnapshot):
    resource_noun: ClassVar[str] = "instances"

    instances: tuple[SqlInstance, ...]

    @property
    def primaries(self) -> tuple[SqlInstance, ...]:
        """Instances of Cloud SQL's own (not read replicas, not on-premises sources)."""
        return tuple(i for i in self.instances if i.instance_type == "CLOUD_SQL_INSTANCE")


class CryptoKey(SnapshotPart):
    resource: str
    purpose: str  # ENCRYPT_DECRYPT, ASYMMETRIC_SIGN, ...
    primary_state: str | None  # ENABLED, DISABLED, DESTROYED, ...
    rotation_period: timedelta | None
    next_rotation_time: datetime | None


class GcpKmsKeys(_GcpSnapshot):
    resource_noun: ClassVar[str] = "keys"

    max_rotation_days: int
    keys: tuple[CryptoKey, ...]
