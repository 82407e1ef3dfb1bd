"""annexa's public plugin surface for check authors.

A check is one decorated, typed function over snapshots::

    from checks import Finding, check
    from checks.aws.models import S3Buckets

    @check(id="acme.s3.named_by_policy", title="Buckets follow the naming policy",
           severity="low", interval="1d")
    def named_by_policy(buckets: S3Buckets):
        for bucket in buckets.buckets:
            ok = bucket.name.startswith("acme-")
            yield Finding(resource=bucket.arn, passed=ok, message="ok" if ok else "bad name")
"""

from checks.api import (
    SEVERITIES,
    Across,
    CheckSpec,
    Finding,
    Severity,
    Snapshot,
    SnapshotPart,
    check,
    parse_duration,
    spec_of,
)

__all__ = [
    "SEVERITIES",
    "Across",
    "CheckSpec",
    "Finding",
    "Severity",
    "Snapshot",
    "SnapshotPart",
    "check",
    "parse_duration",
    "spec_of",
]
