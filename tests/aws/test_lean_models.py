"""Clients are built from service models without documentation, and still call the API."""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from collector.aws.lean_models import LeanLoader
from collector.aws.scope import Clients


def _has_documentation(node: Any) -> bool:
    if isinstance(node, dict):
        return bool(node.get("documentation")) or any(_has_documentation(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_documentation(v) for v in node)
    return False


@mock_aws
def test_clients_use_models_without_documentation() -> None:
    session = boto3.Session(region_name="us-east-1")
    clients = Clients(session)
    ec2 = clients.get("ec2", "eu-west-1")
    model = ec2.meta.service_model._service_description
    assert model["operations"] and model["shapes"]  # the model itself is all there
    assert not _has_documentation(model)
    assert isinstance(session._session.get_component("data_loader"), LeanLoader)
    # every region's client shares the one lean model the loader cached
    assert clients.get("ec2", "us-east-1").meta.service_model._service_description is model
    regions = ec2.describe_regions()["Regions"]
    assert {r["RegionName"] for r in regions} >= {"us-east-1", "eu-west-1"}


@mock_aws
def test_other_sessions_keep_botocore_models() -> None:
    Clients(boto3.Session(region_name="us-east-1")).get("sts", "us-east-1")
    plain = boto3.client("sts", region_name="us-east-1")
    assert _has_documentation(plain.meta.service_model._service_description)


@mock_aws
def test_clients_keep_only_the_operations_annexa_names() -> None:
    clients = Clients(boto3.Session(region_name="us-east-1"))
    ec2 = clients.get("ec2", "eu-west-1")

    assert hasattr(ec2, "describe_volumes") and not hasattr(ec2, "create_vpn_gateway")
    assert len(ec2.meta.service_model.operation_names) < 50  # of EC2's 830
    assert ec2.describe_volumes()["Volumes"] == []  # a kept operation's shapes are all there
    assert hasattr(clients.get("s3", "us-east-1"), "head_bucket")  # botocore's redirect call
    assert hasattr(clients.get("sts", "us-east-1"), "assume_role")  # credential providers'
