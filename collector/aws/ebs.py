"""EBS volume collector: one DescribeVolumes sweep per region."""

from __future__ import annotations

from checks.aws.ebs import EbsVolume, EbsVolumes
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(EbsVolumes, permissions=["ec2:DescribeVolumes"], scope="region")
def ebs_volumes(scope: AwsScope) -> EbsVolumes:
    """Every volume in the region with its encryption flag."""
    volumes = [
        EbsVolume(
            volume_id=v["VolumeId"],
            arn=scope.arn("ec2", f"volume/{v['VolumeId']}", region=scope.region),
            encrypted=bool(v.get("Encrypted", False)),
        )
        for page in scope.client("ec2").get_paginator("describe_volumes").paginate()
        for v in page.get("Volumes", [])
    ]
    return EbsVolumes(region=scope.region, volumes=tuple(volumes))
