"""Resource collectors: buckets, compute, networks, Cloud SQL and KMS keys of a scope.

Absent fields take the API's documented default; where none is documented the value that
cannot make a check pass is used (unknown is never a pass).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from checks.gcp.models import (
    Bucket,
    ComputeProject,
    CryptoKey,
    FirewallRule,
    GcpBuckets,
    GcpCompute,
    GcpKmsKeys,
    GcpNetworks,
    GcpSqlInstances,
    Network,
    SqlInstance,
)
from collector.collect import collects
from collector.gcp.scope import LIST_RESOURCE, SEARCH_RESOURCES, GcpScope

BUCKET = "storage.googleapis.com/Bucket"
FIREWALL = "compute.googleapis.com/Firewall"
COMPUTE_PROJECT = "compute.googleapis.com/Project"
NETWORK = "compute.googleapis.com/Network"
SQL_INSTANCE = "sqladmin.googleapis.com/Instance"
CRYPTO_KEY = "cloudkms.googleapis.com/CryptoKey"
_PROJECT = re.compile(r"^//[^/]+/(projects/[^/]+)/")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def _resources(scope: GcpScope, *asset_types: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(asset type, full name, resource data) of one ``ListAssets`` RESOURCE sweep."""
    return [
        (asset["assetType"], asset["name"], asset["resource"]["data"])
        for asset in scope.list_assets("RESOURCE", asset_types)
    ]


@collects(GcpBuckets, permissions=[f"gcp:{LIST_RESOURCE}"])
def buckets(scope: GcpScope) -> GcpBuckets:
    found = []
    for _, name, data in _resources(scope, BUCKET):
        iam = data.get("iamConfiguration", {})
        found.append(
            Bucket(
                resource=name,
                uniform_access=bool(iam.get("uniformBucketLevelAccess", {}).get("enabled")),
                public_access_prevention=iam.get("publicAccessPrevention", "unspecified"),
            )
        )
    return GcpBuckets(buckets=tuple(found))


def _firewall(name: str, data: dict[str, Any]) -> FirewallRule:
    return FirewallRule(
        resource=name,
        direction=data.get("direction", "INGRESS"),  # the API's default
        disabled=bool(data.get("disabled", False)),
        source_ranges=tuple(data.get("sourceRanges", ())),
        allowed=tuple(
            (a.get("IPProtocol") or a.get("ipProtocol", ""), tuple(a.get("ports", ())))
            for a in data.get("allowed", ())
        ),
    )


def _os_login(data: dict[str, Any]) -> str | None:
    items = data.get("commonInstanceMetadata", {}).get("items", ())
    values = [i.get("value") for i in items if i.get("key") == "enable-oslogin"]
    return values[0] if values else None


@collects(GcpCompute, permissions=[f"gcp:{LIST_RESOURCE}"])
def compute(scope: GcpScope) -> GcpCompute:
    """One sweep over firewall rules and Compute projects; of project metadata only the
    ``enable-oslogin`` value is kept (other items can hold keys and startup scripts)."""
    firewalls, projects = [], []
    for kind, name, data in _resources(scope, FIREWALL, COMPUTE_PROJECT):
        if kind == FIREWALL:
            firewalls.append(_firewall(name, data))
        else:
            projects.append(ComputeProject(resource=name, os_login=_os_login(data)))
    return GcpCompute(firewalls=tuple(firewalls), projects=tuple(projects))


@collects(GcpNetworks, permissions=[f"gcp:{SEARCH_RESOURCES}"])
def networks(scope: GcpScope) -> GcpNetworks:
    """``searchAllResources`` over VPC networks: names are all the check needs."""
    found = []
    for result in scope.search_resources([NETWORK]):
        project = _PROJECT.match(result["name"])
        found.append(
            Network(
                resource=result["name"],
                project=project.group(1) if project else result.get("project", ""),
                name=result.get("displayName") or result["name"].rsplit("/", 1)[-1],
            )
        )
    return GcpNetworks(networks=tuple(found))


@collects(GcpSqlInstances, permissions=[f"gcp:{LIST_RESOURCE}"])
def sql_instances(scope: GcpScope) -> GcpSqlInstances:
    found = []
    for _, name, data in _resources(scope, SQL_INSTANCE):
        settings = data.get("settings", {})
        ip = settings.get("ipConfiguration", {})
        backup = settings.get("backupConfiguration", {})
        version = data.get("databaseVersion", "")
        # MySQL recovers to a point in time from its binary log; the others from a flag.
        # The API omits false booleans, so an absent flag is off.
        pitr = backup.get(
            "binaryLogEnabled" if version.startswith("MYSQL") else "pointInTimeRecoveryEnabled"
        )
        found.append(
            SqlInstance(
                resource=name,
                instance_type=data.get("instanceType", "CLOUD_SQL_INSTANCE"),
                ipv4_enabled=bool(ip.get("ipv4Enabled", True)),  # new instances get one
                authorized_networks=tuple(n["value"] for n in ip.get("authorizedNetworks", ())),
                require_ssl=bool(ip.get("requireSsl", False)),
                ssl_mode=ip.get("sslMode"),
                backups_enabled=bool(backup.get("enabled")),
                database_version=version,
                point_in_time_recovery=bool(pitr),
                availability_type=settings.get("availabilityType", "ZONAL"),  # the default
            )
        )
    return GcpSqlInstances(instances=tuple(found))


def _duration(text: str | None) -> timedelta | None:
    """A protobuf JSON duration (``"7776000s"``)."""
    if text is None:
        return None
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"unexpected duration {text!r}")
    return timedelta(seconds=float(match.group(1)))


@collects(GcpKmsKeys, permissions=[f"gcp:{LIST_RESOURCE}"])
def kms_keys(scope: GcpScope) -> GcpKmsKeys:
    found = []
    for _, name, data in _resources(scope, CRYPTO_KEY):
        found.append(
            CryptoKey(
                resource=name,
                purpose=data.get("purpose", "ENCRYPT_DECRYPT"),
                primary_state=data.get("primary", {}).get("state"),
                rotation_period=_duration(data.get("rotationPeriod")),
                next_rotation_time=data.get("nextRotationTime"),
            )
        )
    return GcpKmsKeys(max_rotation_days=scope.settings.key_rotation_days, keys=tuple(found))
