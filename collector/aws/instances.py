"""EC2 instance collector: one DescribeInstances sweep per region (pending, running, stopped)."""

from __future__ import annotations

from checks.aws.instances import Ec2Instance, Ec2Instances
from collector.aws.scope import AwsScope
from collector.collect import collects

STATES = ["pending", "running", "stopped"]


@collects(Ec2Instances, permissions=["ec2:DescribeInstances"], scope="region")
def ec2_instances(scope: AwsScope) -> Ec2Instances:
    """Keep the id, state and metadata-options token setting of each instance; nothing else."""
    pages = (
        scope.client("ec2")
        .get_paginator("describe_instances")
        .paginate(Filters=[{"Name": "instance-state-name", "Values": STATES}])
    )
    instances = [
        Ec2Instance(
            instance_id=i["InstanceId"],
            arn=scope.arn("ec2", f"instance/{i['InstanceId']}", region=scope.region),
            state=i["State"]["Name"],
            http_tokens=(i.get("MetadataOptions") or {}).get("HttpTokens"),
        )
        for page in pages
        for reservation in page.get("Reservations", [])
        for i in reservation.get("Instances", [])
    ]
    return Ec2Instances(region=scope.region, instances=tuple(instances))
