"""CloudWatch Logs: log groups keep their events at least as long as required."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class LogGroup(SnapshotPart):
    """A log group's name, ARN and retention (None: events never expire)."""

    name: str
    arn: str
    retention_days: int | None


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
