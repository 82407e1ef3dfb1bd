"""Inspector collector: BatchGetAccountStatus for the scope's account and region."""

from __future__ import annotations

from checks.aws.inspector import InspectorStatus
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(InspectorStatus, permissions=["inspector2:BatchGetAccountStatus"], scope="region")
def inspector_status(scope: AwsScope) -> InspectorStatus:
    """AWS answers DISABLED for an account that never enabled Inspector; an account missing
    from the answer (``failedAccounts``) is an error, never a verdict."""
    answer = scope.client("inspector2").batch_get_account_status(accountIds=[scope.account_id])
    mine = [a for a in answer.get("accounts", []) if a.get("accountId") == scope.account_id]
    if not mine:
        failed = answer.get("failedAccounts") or [{}]
        raise ValueError(
            f"inspector2 BatchGetAccountStatus has no status for {scope.account_id}: "
            f"{failed[0].get('errorCode', 'no answer')} {failed[0].get('errorMessage', '')}".strip()
        )
    status = mine[0]
    return InspectorStatus(
        region=scope.region,
        arn=scope.arn("inspector2", "account-status", region=scope.region),
        state=status["state"]["status"],
        resource_states={k: v["status"] for k, v in status.get("resourceState", {}).items()},
    )
