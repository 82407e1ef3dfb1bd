"""A run fetches only what its checks judge: ``annexa run --check aws.s3.default_encryption``
against a moto server makes one call per bucket (counted on the server) and loads only the
AWS SDK."""

from __future__ import annotations

from collections import Counter

import boto3

from storage import EvidenceStore
from tests.aws.moto_server import counting_server, operations
from tests.test_lean_start import CLOUD_SDKS, loaded_by

BUCKETS = ("logs-plain", "data-kms", "web-aes")


def test_one_s3_check_makes_one_call_per_bucket_and_loads_only_boto(tmp_path) -> None:
    with counting_server() as (endpoint, log):
        session = boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        s3 = session.client("s3", endpoint_url=endpoint)
        for name in BUCKETS:
            s3.create_bucket(Bucket=name)
        s3.put_bucket_encryption(
            Bucket="data-kms",
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
            },
        )
        log.keys.clear()
        env = {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "ANNEXA_AWS__REGIONS": '["us-east-1"]',
            "HOME": str(tmp_path),
        }

        loaded = loaded_by(["run", "--check", "aws.s3.default_encryption"], tmp_path, **env)
        requests = operations(log)

    assert requests == Counter(
        {
            ("sts", "GetCallerIdentity"): 1,
            ("s3", "GET /?"): 1,  # ListBuckets
            ("s3", "GET /<bucket>?encryption"): len(BUCKETS),
        }
    )
    assert "boto3" in loaded
    assert not loaded & (CLOUD_SDKS - {"boto3", "botocore", "s3transfer"}), sorted(loaded)
    store = EvidenceStore.open(f"sqlite:///{tmp_path / 'data' / 'annexa.sqlite'}")
    try:
        (record,) = store.history(check_ids=["aws.s3.default_encryption"])
    finally:
        store.close()
    judged = {f["resource"]: f["message"] for f in record.findings}
    assert judged["arn:aws:s3:::data-kms"] == "data-kms encrypts by default with aws:kms"
    assert set(judged) == {f"arn:aws:s3:::{name}" for name in BUCKETS}
    # the observations name the one setting read: the Nones of the others mean "not read"
    assert record.observations["S3Buckets"]["read"] == ["encryption"]
