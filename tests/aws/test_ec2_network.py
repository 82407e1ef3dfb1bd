"""EBS volumes, security groups and instances (per region) under moto, and their checks."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from checks.aws.ebs import EbsVolumes, ebs_volumes_encrypted
from checks.aws.instances import Ec2Instances, imdsv2_required
from checks.aws.security_groups import (
    SecurityGroups,
    default_security_group_closed,
    no_admin_ports_open_to_internet,
)
from checks.network import InternetPrefix
from checks.testing import findings, verdicts
from collector.settings import AwsSettings
from collector.testing import collect_aws
from tests.aws.wire import ACCOUNT, serve_wire

REGION = "eu-west-1"
AMI = "ami-12c6146b"  # one of moto's bundled eu-west-1 images


def ec2_arn(resource: str, region: str = REGION) -> str:
    return f"arn:aws:ec2:{region}:{ACCOUNT}:{resource}"


def test_volumes_judged_per_volume(session: boto3.Session) -> None:
    ec2 = session.client("ec2", region_name=REGION)
    plain = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    sealed = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8, Encrypted=True)["VolumeId"]
    session.client("ec2", region_name="us-east-1").create_volume(
        AvailabilityZone="us-east-1a", Size=8, Encrypted=True
    )

    snapshot = collect_aws(EbsVolumes, session, region=REGION)

    assert verdicts(ebs_volumes_encrypted, snapshot) == {
        (ec2_arn(f"volume/{plain}"), False),
        (ec2_arn(f"volume/{sealed}"), True),
    }
    messages = {f.resource: f.message for f in findings(ebs_volumes_encrypted, snapshot)}
    assert messages[ec2_arn(f"volume/{plain}")] == f"{plain} is not encrypted"


def ingress(
    ec2: object, group: str, protocol: str, ports: tuple[int, int] | None, **src: str
) -> None:
    permission: dict[str, object] = {"IpProtocol": protocol}
    if ports:
        permission |= {"FromPort": ports[0], "ToPort": ports[1]}
    if "cidr" in src:
        permission["IpRanges"] = [{"CidrIp": src["cidr"]}]
    if "cidr6" in src:
        permission["Ipv6Ranges"] = [{"CidrIpv6": src["cidr6"]}]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[permission])  # type: ignore[attr-defined]


def test_security_groups(session: boto3.Session) -> None:
    ec2 = session.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    closed_vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]

    def group(name: str) -> str:
        return ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]

    ssh_world = group("ssh-world")
    ingress(ec2, ssh_world, "tcp", (22, 22), cidr="0.0.0.0/0")
    rdp_range6 = group("rdp-range-v6")
    ingress(ec2, rdp_range6, "tcp", (3000, 4000), cidr6="::/0")
    everything = group("all-traffic")
    ingress(ec2, everything, "-1", None, cidr="0.0.0.0/0")
    web = group("web")
    ingress(ec2, web, "tcp", (443, 443), cidr="0.0.0.0/0")
    ingress(ec2, web, "tcp", (22, 22), cidr="10.0.0.0/8")
    ingress(ec2, web, "icmp", (-1, -1), cidr="0.0.0.0/0")
    defaults = {
        g["VpcId"]: g["GroupId"]
        for g in ec2.describe_security_groups(
            Filters=[{"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"]
    }
    closed = defaults[closed_vpc]
    egress = ec2.describe_security_groups(GroupIds=[closed])["SecurityGroups"][0]
    ec2.revoke_security_group_egress(GroupId=closed, IpPermissions=egress["IpPermissionsEgress"])

    snapshot = collect_aws(SecurityGroups, session, region=REGION)

    sg = {g: ec2_arn(f"security-group/{g}") for g in [ssh_world, rdp_range6, everything, web]}
    assert verdicts(no_admin_ports_open_to_internet, snapshot) == {
        (sg[ssh_world], False),
        (sg[rdp_range6], False),
        (sg[everything], False),
        (sg[web], True),
    } | {(ec2_arn(f"security-group/{g}"), True) for g in defaults.values()}
    messages = {f.resource: f.message for f in findings(no_admin_ports_open_to_internet, snapshot)}
    assert (
        messages[sg[everything]]
        == f"{everything} (all-traffic) opens 22 from 0.0.0.0/0; 3389 from 0.0.0.0/0"
    )
    assert verdicts(default_security_group_closed, snapshot) == {
        (ec2_arn(f"security-group/{g}"), g == closed) for g in defaults.values()
    }
    assert len(defaults) == 3  # moto's default VPC and the two created here


def test_security_groups_judged_by_address_space(session: boto3.Session) -> None:
    """The internet split into halves, IPv6 halves, many public /17s adding up: all open.
    A narrow public range, private space, and a wide range under a looser prefix: not open."""
    ec2 = session.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]

    def group(name: str, *sources: str, ports: tuple[int, int] = (22, 22)) -> str:
        gid = ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        for source in sources:
            key = "cidr6" if ":" in source else "cidr"
            ingress(ec2, gid, "tcp", ports, **{key: source})
        return gid

    split = group("split", "0.0.0.0/1", "128.0.0.0/1")
    split6 = group("split6", "::/1", "8000::/1", ports=(3389, 3389))
    quarters = group("quarters", *(f"{i}.0.0.0/2" for i in (0, 64, 128, 192)))
    wide_public = group("wide-public", "3.0.0.0/15")
    many_narrow = group("many-narrow", "3.0.0.0/17", "3.0.128.0/17", "3.1.0.0/24")
    office = group("office", "3.5.0.0/24", "2600:1f18::/48")
    private = group("private", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")

    snapshot = collect_aws(SecurityGroups, session, region=REGION)
    judged = dict(verdicts(no_admin_ports_open_to_internet, snapshot))
    arn = {g: ec2_arn(f"security-group/{g}") for g in (split, split6, quarters)}
    assert {g: judged[ec2_arn(f"security-group/{g}")] for g in
            (split, split6, quarters, wide_public, many_narrow, office, private)} == {
        split: False, split6: False, quarters: False, wide_public: False, many_narrow: False,
        office: True, private: True,
    }  # fmt: skip
    messages = {f.resource: f.message for f in findings(no_admin_ports_open_to_internet, snapshot)}
    assert messages[arn[split]] == f"{split} (split) opens 22 from 0.0.0.0/1, 128.0.0.0/1"

    looser = collect_aws(
        SecurityGroups, session, region=REGION,
        settings=AwsSettings(internet_prefix=InternetPrefix(ipv4=12, ipv6=32)),
    )  # fmt: skip
    judged = dict(verdicts(no_admin_ports_open_to_internet, looser))
    assert judged[ec2_arn(f"security-group/{wide_public}")] is True  # a /15 is narrower than /12
    assert judged[arn[split]] is False


def test_instances_judged_on_http_tokens(session: boto3.Session) -> None:
    ec2 = session.client("ec2", region_name=REGION)

    def launch(tokens: str) -> str:
        reply = ec2.run_instances(
            ImageId=AMI,
            MinCount=1,
            MaxCount=1,
            MetadataOptions={"HttpTokens": tokens},
            UserData="#!/bin/sh\necho password=hunter2",
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": "owner", "Value": "ops"}]}
            ],
        )
        return reply["Instances"][0]["InstanceId"]

    strict, loose, stopped, gone = (
        launch("required"),
        launch("optional"),
        launch("optional"),
        launch("optional"),
    )
    ec2.stop_instances(InstanceIds=[stopped])
    ec2.terminate_instances(InstanceIds=[gone])

    snapshot = collect_aws(Ec2Instances, session, region=REGION)

    assert verdicts(imdsv2_required, snapshot) == {
        (ec2_arn(f"instance/{strict}"), True),
        (ec2_arn(f"instance/{loose}"), False),
        (ec2_arn(f"instance/{stopped}"), False),
    }
    evidence = snapshot.model_dump_json()
    assert "hunter2" not in evidence and "owner" not in evidence and "ops" not in evidence


def test_unauthorized_propagates(session: boto3.Session) -> None:
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
        b"<Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this "
        b"operation.</Message></Error></Errors><RequestID>r</RequestID></Response>"
    )
    serve_wire(session, "ec2.DescribeSecurityGroups", body, status=403)
    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        collect_aws(SecurityGroups, session, region=REGION)
