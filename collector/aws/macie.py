"""Amazon Macie collector: the session, then automated sensitive data discovery."""

from __future__ import annotations

from checks.aws.macie import MacieStatus
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(
    MacieStatus,
    permissions=["macie2:GetMacieSession", "macie2:GetAutomatedDiscoveryConfiguration"],
    scope="region",
)
def macie_status(scope: AwsScope) -> MacieStatus:
    """GetMacieSession answers AccessDeniedException "Macie is not enabled." where Macie is
    off: that documented answer is a fact; every other error (a real denial) propagates."""
    from botocore.exceptions import ClientError

    macie = scope.client("macie2")
    arn = scope.arn("macie2", "configuration/automated-discovery", region=scope.region)
    try:
        session = macie.get_macie_session()["status"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") != "AccessDeniedException" or "not enabled" not in str(
            error.get("Message", "")
        ):
            raise
        return MacieStatus(region=scope.region, arn=arn, session=None, discovery=None)
    discovery = None
    if session == "ENABLED":
        discovery = macie.get_automated_discovery_configuration()["status"]
    return MacieStatus(region=scope.region, arn=arn, session=session, discovery=discovery)
