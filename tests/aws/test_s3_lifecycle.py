"""S3 lifecycle expiration (A.8.10) under moto: expiring rules, disabled and cleanup-only rules,
no configuration (S3's NoSuchLifecycleConfiguration) and a denied read."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from checks.aws.models import S3Buckets
from checks.aws.s3 import lifecycle_expiration
from checks.testing import findings, verdicts
from collector.testing import collect_aws
from tests.aws.test_s3 import arn
from tests.aws.wire import s3_error, serve_wire


def lifecycle(s3, bucket: str, *rules: dict) -> None:
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": list(rules)}
    )


def rule(rule_id: str, status: str = "Enabled", **action: object) -> dict:
    return {"ID": rule_id, "Status": status, "Filter": {"Prefix": ""}, **action}


def test_buckets_with_an_enabled_expiring_rule_pass(session) -> None:
    s3 = session.client("s3")
    for name in ("expiring", "versions-only", "disabled", "cleanup-only", "none"):
        s3.create_bucket(Bucket=name)
    lifecycle(s3, "expiring", rule("year", Expiration={"Days": 365}), rule("tidy", "Disabled"))
    lifecycle(s3, "versions-only", rule("old", NoncurrentVersionExpiration={"NoncurrentDays": 30}))
    lifecycle(s3, "disabled", rule("off", "Disabled", Expiration={"Days": 30}))
    lifecycle(s3, "cleanup-only", rule("markers", Expiration={"ExpiredObjectDeleteMarker": True}))
    snapshot = collect_aws(S3Buckets, session)
    assert verdicts(lifecycle_expiration, snapshot) == {
        (arn("expiring"), True),
        (arn("versions-only"), True),
        (arn("disabled"), False),
        (arn("cleanup-only"), False),  # removes delete markers, never data
        (arn("none"), False),  # NoSuchLifecycleConfiguration: a fact, not an unknown
    }
    messages = {f.resource: f.message for f in findings(lifecycle_expiration, snapshot)}
    assert messages[arn("expiring")] == "expiring expires data by year"


def test_a_denied_lifecycle_read_is_an_error(session) -> None:
    session.client("s3").create_bucket(Bucket="guarded")
    serve_wire(
        session,
        "s3.GetBucketLifecycleConfiguration",
        s3_error("AccessDenied", "Access Denied"),
        status=403,
    )
    with pytest.raises(ClientError, match="AccessDenied"):
        collect_aws(S3Buckets, session)
