"""EBS encryption-by-default collector (per region) under moto and its check."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from checks.aws.ec2 import ebs_encryption_by_default
from checks.aws.models import EbsEncryptionByDefault
from checks.testing import findings, verdicts
from collector.collect import Target
from collector.testing import aws_cache, collect_aws
from tests.aws.wire import ACCOUNT, serve_wire


def setting_arn(region: str) -> str:
    return f"arn:aws:ec2:{region}:{ACCOUNT}:ebs-encryption-by-default"


def test_judged_per_region(session: boto3.Session) -> None:
    session.client("ec2", region_name="us-east-1").enable_ebs_encryption_by_default()

    east = collect_aws(EbsEncryptionByDefault, session, region="us-east-1")
    west = collect_aws(EbsEncryptionByDefault, session, region="eu-west-1")

    assert verdicts(ebs_encryption_by_default, east) == {(setting_arn("us-east-1"), True)}
    assert verdicts(ebs_encryption_by_default, west) == {(setting_arn("eu-west-1"), False)}
    assert findings(ebs_encryption_by_default, west)[0].message == (
        "EBS encryption by default is off in eu-west-1"
    )


def test_one_collection_per_region_in_a_run(session: boto3.Session) -> None:
    cache = aws_cache(session)
    east = cache.get(EbsEncryptionByDefault, Target("aws", ACCOUNT, "us-east-1"))
    assert cache.get(EbsEncryptionByDefault, Target("aws", ACCOUNT, "us-east-1")) is east
    west = cache.get(EbsEncryptionByDefault, Target("aws", ACCOUNT, "eu-west-1"))
    assert west.region == "eu-west-1"


def test_access_denied_propagates(session: boto3.Session) -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
        b"<Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this "
        b"operation.</Message></Error></Errors><RequestID>r</RequestID></Response>"
    )
    serve_wire(session, "ec2.GetEbsEncryptionByDefault", body, status=403)
    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        collect_aws(EbsEncryptionByDefault, session)
