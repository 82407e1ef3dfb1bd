"""CloudTrail checks: account activity is logged in every region."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.aws.models import CloudTrailTrails, Trail


@check(
    id="aws.cloudtrail.multi_region_logging",
    title="A multi-region CloudTrail trail is logging",
    severity="high",
    interval="6h",
    remediation="Create a multi-region trail (or an organization trail) and start logging; "
    "the resource is the account, arn:aws:iam::<account>:root.",
)
def multi_region_logging(snapshot: CloudTrailTrails) -> Iterator[Finding]:
    """One finding for the account: passes when some trail is multi-region and logging."""
    good = [t for t in snapshot.trails if t.is_multi_region and t.is_logging]
    if good:
        message = "multi-region trail logging: " + ", ".join(t.name for t in good)
    elif snapshot.trails:
        message = "no multi-region trail is logging; trails found: " + ", ".join(
            _describe(t) for t in snapshot.trails
        )
    else:
        message = "no CloudTrail trail exists"
    yield Finding(resource=snapshot.account_arn, passed=bool(good), message=message)


def _describe(trail: Trail) -> str:
    reach = "multi-region" if trail.is_multi_region else f"single-region {trail.home_region}"
    return f"{trail.name} ({reach}, {'logging' if trail.is_logging else 'stopped'})"
