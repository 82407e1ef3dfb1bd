"""Cloud Logging buckets: events kept at least the required time, retention locked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.gcp.models import _GcpSnapshot

#: Google's own bucket: 400 days, cannot be changed, deleted or locked by anyone.
REQUIRED_BUCKET = "_Required"


class LogBucket(SnapshotPart):
    resource: str  # //logging.googleapis.com/projects/p/locations/global/buckets/<id>
    bucket_id: str
    retention_days: int
    locked: bool
    lifecycle_state: str  # ACTIVE, DELETE_REQUESTED, UPDATING, ...


class GcpLogBuckets(_GcpSnapshot):
    """Every log bucket in the scope (Cloud Asset ``logging.googleapis.com/LogBucket``)."""

    resource_noun: ClassVar[str] = "log buckets"

    minimum_days: int
    buckets: tuple[LogBucket, ...]

    def active(self) -> Iterator[LogBucket]:
        return (b for b in self.buckets if b.lifecycle_state == "ACTIVE")


@check(
    id="gcp.logging.bucket_retention_minimum",
    title="Log buckets keep entries at least the required time",
    severity="medium",
    interval="24h",
    remediation="gcloud logging buckets update <bucket> --location=<loc> "
    "--retention-days=<at least gcp.log_retention_days>.",
)
def bucket_retention_minimum(snapshot: GcpLogBuckets) -> Iterator[Finding]:
    """One finding per active bucket (buckets pending deletion are not judged)."""
    for bucket in snapshot.active():
        kept = bucket.retention_days >= snapshot.minimum_days
        yield Finding(
            resource=bucket.resource,
            passed=kept,
            message=f"{bucket.bucket_id} keeps entries {bucket.retention_days} days "
            f"(minimum {snapshot.minimum_days})",
        )


@check(
    id="gcp.logging.buckets_locked",
    title="Log buckets have their retention locked",
    severity="medium",
    interval="24h",
    remediation="gcloud logging buckets update <bucket> --location=<loc> --locked "
    "(irreversible: set the retention first).",
)
def buckets_locked(snapshot: GcpLogBuckets) -> Iterator[Finding]:
    """One finding per active bucket other than ``_Required`` (fixed by Google)."""
    for bucket in snapshot.active():
        if bucket.bucket_id == REQUIRED_BUCKET:
            continue
        yield Finding(
            resource=bucket.resource,
            passed=bucket.locked,
            message=f"{bucket.bucket_id} retention {'locked' if bucket.locked else 'not locked'}"
            f" ({bucket.retention_days} days)",
        )
