"""Per-region monitoring checks: AWS Config, GuardDuty, Security Hub and VPC flow logs."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.aws.models import ConfigRecorders, GuardDutyDetectors, SecurityHubState, VpcFlowLogs


@check(
    id="aws.config.recorder_enabled",
    title="AWS Config records every supported resource type",
    severity="medium",
    interval="24h",
    remediation="Set up AWS Config in every region you use with a recorder for all supported "
    "resource types, a delivery channel, and recording started "
    "(configservice start-configuration-recorder). The resource is "
    "arn:aws:config:<region>:<account>:configuration-recorder.",
)
def config_recorder_enabled(snapshot: ConfigRecorders) -> Iterator[Finding]:
    """One finding per region: some recorder is recording and records all supported types."""
    good = [r.name for r in snapshot.recorders if r.recording and r.all_supported]
    if good:
        message = f"AWS Config recording all resource types in {snapshot.region}: " + ", ".join(
            good
        )
    elif snapshot.recorders:
        message = f"no complete AWS Config recording in {snapshot.region}: " + ", ".join(
            f"{r.name} ({'recording' if r.recording else 'stopped'}, "
            f"{'all' if r.all_supported else 'selected'} resource types)"
            for r in snapshot.recorders
        )
    else:
        message = f"no AWS Config recorder in {snapshot.region}"
    yield Finding(resource=snapshot.arn, passed=bool(good), message=message)


@check(
    id="aws.guardduty.enabled",
    title="GuardDuty is enabled",
    severity="high",
    interval="24h",
    remediation="Enable GuardDuty in every region you use (guardduty create-detector --enable), "
    "ideally for the whole organization from a delegated administrator account. The resource "
    "is arn:aws:guardduty:<region>:<account>:detector.",
)
def guardduty_enabled(snapshot: GuardDutyDetectors) -> Iterator[Finding]:
    """One finding per region: a detector exists with status ENABLED."""
    enabled = [d.detector_id for d in snapshot.detectors if d.status == "ENABLED"]
    if enabled:
        message = f"GuardDuty detector enabled in {snapshot.region}: " + ", ".join(enabled)
    elif snapshot.detectors:
        message = f"GuardDuty detector suspended in {snapshot.region}: " + ", ".join(
            f"{d.detector_id} ({d.status})" for d in snapshot.detectors
        )
    else:
        message = f"no GuardDuty detector in {snapshot.region}"
    yield Finding(resource=snapshot.arn, passed=bool(enabled), message=message)


@check(
    id="aws.securityhub.enabled",
    title="Security Hub is enabled with a security standard",
    severity="medium",
    interval="24h",
    remediation="Enable Security Hub in every region you use and subscribe to at least one "
    "standard (e.g. AWS Foundational Security Best Practices): securityhub enable-security-hub "
    "--enable-default-standards.",
)
def securityhub_enabled(snapshot: SecurityHubState) -> Iterator[Finding]:
    """One finding per region: the hub is enabled and some standard is READY."""
    ready = [s.arn.split("/", 1)[-1] for s in snapshot.standards if s.status == "READY"]
    if not snapshot.enabled:
        message = f"Security Hub not enabled in {snapshot.region}"
    elif ready:
        message = f"Security Hub enabled in {snapshot.region} with " + ", ".join(ready)
    elif snapshot.standards:
        message = f"Security Hub in {snapshot.region} has no ready standard: " + ", ".join(
            f"{s.arn.split('/', 1)[-1]} ({s.status})" for s in snapshot.standards
        )
    else:
        message = f"Security Hub enabled in {snapshot.region} without any standard"
    yield Finding(resource=snapshot.arn, passed=snapshot.enabled and bool(ready), message=message)


@check(
    id="aws.ec2.vpc_flow_logs_enabled",
    title="Every VPC has an active flow log",
    severity="medium",
    interval="24h",
    remediation="Create a flow log for the VPC (ec2 create-flow-logs --resource-type VPC "
    "--traffic-type ALL or REJECT) to CloudWatch Logs or S3, and fix delivery if it fails.",
)
def vpc_flow_logs_enabled(snapshot: VpcFlowLogs) -> Iterator[Finding]:
    """One finding per VPC: some flow log on it is ACTIVE and its delivery is not FAILED."""
    for vpc in snapshot.vpcs:
        logs = [f for f in snapshot.flow_logs if f.resource_id == vpc.vpc_id]
        good = [
            f.flow_log_id for f in logs if f.status == "ACTIVE" and f.delivery_status != "FAILED"
        ]
        if good:
            message = f"{vpc.vpc_id} has active flow log(s): " + ", ".join(good)
        elif logs:
            message = f"{vpc.vpc_id} has no working flow log: " + ", ".join(
                f"{f.flow_log_id} ({f.status}, delivery {f.delivery_status})" for f in logs
            )
        else:
            message = f"{vpc.vpc_id} has no flow log"
        yield Finding(resource=vpc.arn, passed=bool(good), message=message)
