"""Per-region monitoring collectors: AWS Config recorders, GuardDuty, Security Hub, flow logs."""

from __future__ import annotations

from checks.aws.models import (
    ConfigRecorder,
    ConfigRecorders,
    FlowLog,
    GuardDutyDetector,
    GuardDutyDetectors,
    SecurityHubState,
    SecurityStandard,
    Vpc,
    VpcFlowLogs,
)
from collector.aws.paging import pages
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    ConfigRecorders,
    permissions=[
        "config:DescribeConfigurationRecorders",
        "config:DescribeConfigurationRecorderStatus",
    ],
    scope="region",
)
def config_recorders(scope: AwsScope) -> ConfigRecorders:
    """The region's configuration recorders with their recording status (no pagination)."""
    config = scope.client("config")
    recording = {
        s["name"]: bool(s.get("recording", False))
        for s in config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    }
    recorders = []
    for recorder in config.describe_configuration_recorders()["ConfigurationRecorders"]:
        group = recorder.get("recordingGroup") or {}
        strategy = (group.get("recordingStrategy") or {}).get("useOnly")
        recorders.append(
            ConfigRecorder(
                name=recorder["name"],
                recording=recording.get(recorder["name"], False),
                all_supported=bool(group.get("allSupported", False))
                and strategy in (None, "ALL_SUPPORTED_RESOURCE_TYPES"),
            )
        )
    return ConfigRecorders(
        region=scope.region,
        arn=scope.arn("config", "configuration-recorder", region=scope.region),
        recorders=tuple(recorders),
    )


@collects(
    GuardDutyDetectors,
    permissions=["guardduty:ListDetectors", "guardduty:GetDetector"],
    scope="region",
)
def guardduty_detectors(scope: AwsScope) -> GuardDutyDetectors:
    """The region's GuardDuty detectors and their status."""
    guardduty = scope.client("guardduty")
    detectors = tuple(
        GuardDutyDetector(
            detector_id=detector_id, status=guardduty.get_detector(DetectorId=detector_id)["Status"]
        )
        for detector_id in pages(guardduty, "list_detectors", "DetectorIds")
    )
    return GuardDutyDetectors(
        region=scope.region,
        arn=scope.arn("guardduty", "detector", region=scope.region),
        detectors=detectors,
    )


@collects(
    SecurityHubState,
    permissions=["securityhub:DescribeHub", "securityhub:GetEnabledStandards"],
    scope="region",
)
def security_hub(scope: AwsScope) -> SecurityHubState:
    """Whether the region's hub is enabled and which standards it subscribes to.

    DescribeHub answers InvalidAccessException "... not subscribed to AWS Security Hub" when
    the hub is off: that documented answer is a fact; every other error propagates.
    """
    from botocore.exceptions import ClientError

    securityhub = scope.client("securityhub")
    arn = scope.arn("securityhub", "hub/default", region=scope.region)
    try:
        arn = securityhub.describe_hub().get("HubArn", arn)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") != "InvalidAccessException" or "not subscribed" not in str(
            error.get("Message", "")
        ):
            raise
        return SecurityHubState(region=scope.region, arn=arn, enabled=False, standards=())
    standards = tuple(
        SecurityStandard(arn=s["StandardsArn"], status=s["StandardsStatus"])
        for s in pages(securityhub, "get_enabled_standards", "StandardsSubscriptions")
    )
    return SecurityHubState(region=scope.region, arn=arn, enabled=True, standards=standards)


def region_vpcs(scope: AwsScope) -> tuple[Vpc, ...]:
    """The region's VPCs (``ec2:DescribeVpcs``, every page), sorted by id."""
    return tuple(
        sorted(
            (
                Vpc(
                    vpc_id=v["VpcId"],
                    arn=scope.arn("ec2", f"vpc/{v['VpcId']}", region=scope.region),
                )
                for v in pages(scope.client("ec2"), "describe_vpcs", "Vpcs")
            ),
            key=lambda v: v.vpc_id,
        )
    )


@collects(VpcFlowLogs, permissions=["ec2:DescribeVpcs", "ec2:DescribeFlowLogs"], scope="region")
def vpc_flow_logs(scope: AwsScope) -> VpcFlowLogs:
    """The region's VPCs and the flow logs attached to them."""
    ec2 = scope.client("ec2")
    vpcs = region_vpcs(scope)
    ids = {v.vpc_id for v in vpcs}
    flow_logs = tuple(
        FlowLog(
            flow_log_id=f["FlowLogId"],
            resource_id=f["ResourceId"],
            status=f.get("FlowLogStatus", ""),
            delivery_status=f.get("DeliverLogsStatus"),
        )
        for f in pages(ec2, "describe_flow_logs", "FlowLogs")
        if f.get("ResourceId") in ids
    )
    return VpcFlowLogs(
        region=scope.region,
        vpcs=vpcs,
        flow_logs=tuple(sorted(flow_logs, key=lambda f: f.flow_log_id)),
    )
