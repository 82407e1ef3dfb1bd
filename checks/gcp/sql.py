"""Cloud SQL checks: no world-open public IP, SSL required, automated backups with
point-in-time recovery, regional availability."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.gcp.compute import WORLD
from checks.gcp.models import GcpSqlInstances

#: sslMode values that refuse unencrypted connections.
ENCRYPTED_ONLY = frozenset({"ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"})


@check(
    id="gcp.sql.no_public_access",
    title="Cloud SQL instances are not reachable from the whole internet",
    severity="high",
    interval="6h",
    remediation="Use private IP (ipv4Enabled false), or remove 0.0.0.0/0 from the authorized "
    "networks and connect through the Cloud SQL Auth Proxy.",
)
def no_public_access(snapshot: GcpSqlInstances) -> Iterator[Finding]:
    """Passes with no public IP (``ipv4Enabled`` false), or with a public IP whose authorized
    networks exclude 0.0.0.0/0 and ::/0 (reachable only from listed networks or the proxy)."""
    for instance in snapshot.instances:
        world = bool(WORLD & set(instance.authorized_networks))
        if not instance.ipv4_enabled:
            message = "no public IP"
        elif world:
            message = "public IP open to 0.0.0.0/0"
        else:
            message = f"public IP, {len(instance.authorized_networks)} authorized network(s)"
        yield Finding(
            resource=instance.resource,
            passed=not (instance.ipv4_enabled and world),
            message=message,
        )


@check(
    id="gcp.sql.ssl_required",
    title="Cloud SQL instances refuse unencrypted connections",
    severity="medium",
    interval="24h",
    remediation="gcloud sql instances patch <instance> --ssl-mode=ENCRYPTED_ONLY.",
)
def ssl_required(snapshot: GcpSqlInstances) -> Iterator[Finding]:
    """``requireSsl`` true or an ``sslMode`` that only allows encrypted connections."""
    for instance in snapshot.instances:
        required = instance.require_ssl or instance.ssl_mode in ENCRYPTED_ONLY
        yield Finding(
            resource=instance.resource,
            passed=required,
            message=f"SSL {'required' if required else 'not required'} "
            f"(sslMode {instance.ssl_mode or 'unset'})",
        )


@check(
    id="gcp.sql.backups_enabled",
    title="Cloud SQL primary instances take automated backups",
    severity="medium",
    interval="24h",
    remediation="gcloud sql instances patch <instance> --backup-start-time=HH:MM.",
)
def backups_enabled(snapshot: GcpSqlInstances) -> Iterator[Finding]:
    """Read replicas and on-premises instances cannot have backups and are not judged."""
    for instance in snapshot.primaries:
        yield Finding(
            resource=instance.resource,
            passed=instance.backups_enabled,
            message=f"automated backups {'on' if instance.backups_enabled else 'off'}",
        )


@check(
    id="gcp.sql.point_in_time_recovery",
    title="Cloud SQL primary instances can be restored to a point in time",
    severity="medium",
    interval="24h",
    remediation="gcloud sql instances patch <instance> --enable-point-in-time-recovery "
    "(MySQL: --enable-bin-log).",
)
def point_in_time_recovery(snapshot: GcpSqlInstances) -> Iterator[Finding]:
    """Backups and point-in-time recovery (MySQL: the binary log) both on; replicas and
    on-premises instances are not judged."""
    for instance in snapshot.primaries:
        ok = instance.backups_enabled and instance.point_in_time_recovery
        yield Finding(
            resource=instance.resource,
            passed=ok,
            message=f"{instance.database_version or 'unknown engine'}: automated backups "
            f"{'on' if instance.backups_enabled else 'off'}, point-in-time recovery "
            f"{'on' if instance.point_in_time_recovery else 'off'}",
        )


@check(
    id="gcp.sql.high_availability",
    title="Cloud SQL primary instances are regional (a standby in another zone)",
    severity="medium",
    interval="24h",
    remediation="gcloud sql instances patch <instance> --availability-type=REGIONAL.",
)
def high_availability(snapshot: GcpSqlInstances) -> Iterator[Finding]:
    """Replicas and on-premises instances are not judged."""
    for instance in snapshot.primaries:
        regional = instance.availability_type == "REGIONAL"
        yield Finding(
            resource=instance.resource,
            passed=regional,
            message=f"availability type {instance.availability_type}",
        )
