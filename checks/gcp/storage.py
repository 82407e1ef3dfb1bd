"""Cloud Storage checks: uniform bucket-level access and public access prevention."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.gcp.models import GcpBuckets


@check(
    id="gcp.storage.uniform_bucket_access",
    title="Buckets use uniform bucket-level access (IAM only, no object ACLs)",
    severity="medium",
    interval="24h",
    remediation="gcloud storage buckets update gs://<bucket> --uniform-bucket-level-access; "
    "enforce storage.uniformBucketLevelAccess by organisation policy.",
)
def uniform_bucket_access(snapshot: GcpBuckets) -> Iterator[Finding]:
    for bucket in snapshot.buckets:
        yield Finding(
            resource=bucket.resource,
            passed=bucket.uniform_access,
            message="uniform bucket-level access on"
            if bucket.uniform_access
            else "object ACLs in use (uniform bucket-level access off)",
        )


@check(
    id="gcp.storage.public_access_prevention",
    title="Buckets enforce public access prevention",
    severity="high",
    interval="6h",
    remediation="gcloud storage buckets update gs://<bucket> --public-access-prevention; "
    "enforce storage.publicAccessPrevention by organisation policy.",
)
def public_access_prevention(snapshot: GcpBuckets) -> Iterator[Finding]:
    """``inherited`` fails: the bucket itself does not prevent public access, and an
    organisation policy that might is not part of the bucket's evidence."""
    for bucket in snapshot.buckets:
        enforced = bucket.public_access_prevention == "enforced"
        yield Finding(
            resource=bucket.resource,
            passed=enforced,
            message=f"public access prevention {bucket.public_access_prevention}",
        )
