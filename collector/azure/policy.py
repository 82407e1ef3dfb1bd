"""ARM collector for Azure Policy compliance (Policy Insights ``policyStates/latest/summarize``,
a read action in Reader)."""

from __future__ import annotations

from typing import Any

from checks.azure.policy import AssignmentCompliance, PolicyCompliance
from collector.azure.arm import READER
from collector.azure.errors import MalformedResponse
from collector.azure.scope import AzureScope
from collector.collect import collects

POLICY_INSIGHTS_API = "2019-10-01"


@collects(PolicyCompliance, permissions=[READER])
def policy_compliance(scope: AzureScope) -> PolicyCompliance:
    """The subscription's latest compliance summary: totals and per assignment."""
    path = f"{scope.subscription}/providers/Microsoft.PolicyInsights/policyStates/latest/summarize"
    request = f"POST {path}"
    answer = scope.api.post(path, api_version=POLICY_INSIGHTS_API, requires=READER)
    summaries = answer.get("value")
    if not isinstance(summaries, list) or len(summaries) != 1 or not isinstance(summaries[0], dict):
        raise MalformedResponse(request, "'value' is not one summary")
    summary = summaries[0]
    assignments = summary.get("policyAssignments")
    if not isinstance(assignments, list):
        raise MalformedResponse(request, "no policyAssignments list")
    return PolicyCompliance(
        subscription=scope.subscription,
        non_compliant_resources=_count(summary, "nonCompliantResources", request),
        assignments=tuple(
            AssignmentCompliance(
                id=_text(a, "policyAssignmentId", request),
                non_compliant_resources=_count(a, "nonCompliantResources", request),
                non_compliant_policies=_count(a, "nonCompliantPolicies", request),
            )
            for a in assignments
        ),
    )


def _count(item: dict[str, Any], key: str, request: str) -> int:
    value = (item.get("results") or {}).get(key)
    if not isinstance(value, int):
        raise MalformedResponse(request, f"results.{key} missing")
    return value


def _text(item: dict[str, Any], key: str, request: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedResponse(request, f"an assignment has no {key}")
    return value
