"""CloudWatch Logs: log groups keep their events at least as long as required."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class LogGroup(SnapshotPart):
    """A log group's name, ARN, retention (None: events never expire) and data protection:
    its own policy's status, and whether it inherits the account-level policy."""

    name: str
    arn: str
    retention_days: int | None
    data_protection: str | None = None  # dataProtectionStatus: ACTIVATED, DISABLED, ...
    account_data_protection: bool = False  # inheritedProperties has ACCOUNT_DATA_PROTECTION


class LogGroups(_AwsSnapshot):
    """Every CloudWatch Logs log group in one region, with the required minimum retention."""

    resource_noun: ClassVar[str] = "log groups"

    region: str
    minimum_days: int
    items: tuple[LogGroup, ...]


@check(
    id="aws.logs.retention_minimum",
    title="CloudWatch log groups keep events at least the required time",
    severity="medium",
    interval="24h",
    remediation="aws logs put-retention-policy --log-group-name <name> --retention-in-days "
    "<days at least aws.log_retention_days>.",
)
def retention_minimum(snapshot: LogGroups) -> Iterator[Finding]:
    """One finding per log group; no retention setting keeps events forever and passes."""
    for group in snapshot.items:
        days = group.retention_days
        kept = days is None or days >= snapshot.minimum_days
        shown = "never expire" if days is None else f"kept {days} days"
        yield Finding(
            resource=group.arn,
            passed=kept,
            message=f"events of {group.name} {shown} (minimum {snapshot.minimum_days})",
        )


@check(
    id="aws.logs.sensitive_data_masked",
    title="CloudWatch log groups mask sensitive data with a data protection policy",
    severity="low",
    interval="24h",
    remediation="aws logs put-account-policy --policy-type DATA_PROTECTION_POLICY (one policy "
    "for every log group of the region), or put-data-protection-policy per log group.",
)
def sensitive_data_masked(snapshot: LogGroups) -> Iterator[Finding]:
    """One finding per log group: its own policy ACTIVATED, or the account-level one inherited
    (a data protection policy always pairs an audit statement with a masking one)."""
    for group in snapshot.items:
        if group.account_data_protection:
            message = f"{group.name} masked by the account-level data protection policy"
        elif group.data_protection == "ACTIVATED":
            message = f"{group.name} masked by its data protection policy"
        else:
            message = f"{group.name} has no active data protection policy" + (
                f" ({group.data_protection})" if group.data_protection else ""
            )
        passed = group.account_data_protection or group.data_protection == "ACTIVATED"
        yield Finding(resource=group.arn, passed=passed, message=message)
