"""CloudTrail log buckets protected against deletion: moto serves the trails and S3 (Object
Lock, versioning); MFA delete, which moto cannot set, comes as S3's GetBucketVersioning wire
answer (docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketVersioning.html)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from checks.aws.cloudtrail import CloudTrailBuckets, bucket_delete_protected
from checks.testing import findings, verdicts
from collector.testing import collect_aws
from tests.aws.wire import serve_wire

VERSIONING_MFA = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
    b"<Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>"
)


def trail(session, name: str, bucket: str, *, lock: dict | None = None) -> None:
    s3 = session.client("s3")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=lock is not None)
        if lock:
            s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=lock)
    session.client("cloudtrail").create_trail(Name=name, S3BucketName=bucket)


def test_object_lock_with_retention_passes_and_a_plain_bucket_fails(session) -> None:
    retention = {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}}
    trail(session, "org", "locked-logs", lock={"ObjectLockEnabled": "Enabled", "Rule": retention})
    trail(session, "org-copy", "locked-logs")  # two trails, one bucket: read once
    trail(session, "dev", "plain-logs")
    trail(session, "ops", "lock-no-rule", lock={"ObjectLockEnabled": "Enabled"})
    snapshot = collect_aws(CloudTrailBuckets, session)
    assert verdicts(bucket_delete_protected, snapshot) == {
        ("arn:aws:s3:::locked-logs", True),
        ("arn:aws:s3:::plain-logs", False),
        ("arn:aws:s3:::lock-no-rule", False),  # no default retention: objects not locked
    }
    messages = {f.resource: f.message for f in findings(bucket_delete_protected, snapshot)}
    assert messages["arn:aws:s3:::locked-logs"] == (
        "Object Lock COMPLIANCE 365 days, no MFA delete (trails: org, org-copy)"
    )


def test_mfa_delete_alone_passes(session) -> None:
    trail(session, "org", "mfa-logs")
    serve_wire(session, "s3.GetBucketVersioning", VERSIONING_MFA)
    snapshot = collect_aws(CloudTrailBuckets, session)
    assert verdicts(bucket_delete_protected, snapshot) == {("arn:aws:s3:::mfa-logs", True)}


def test_a_bucket_that_cannot_be_read_is_an_error(session) -> None:
    trail(session, "org", "central-logs")
    session.client("s3").delete_bucket(Bucket="central-logs")  # e.g. in another account
    with pytest.raises(ClientError, match="NoSuchBucket"):
        collect_aws(CloudTrailBuckets, session)


def test_no_trail_is_nothing_to_judge(session) -> None:
    snapshot = collect_aws(CloudTrailBuckets, session)
    assert verdicts(bucket_delete_protected, snapshot) == set() and snapshot.buckets == ()
