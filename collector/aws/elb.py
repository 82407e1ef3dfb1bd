"""ELBv2 collector: listeners of every ALB and NLB, with rule actions for HTTP listeners and
the TLS versions each HTTPS / TLS listener's security policy allows."""

from __future__ import annotations

from typing import Any

from checks.aws.elb import Listener, ListenerAction, LoadBalancerListeners
from collector.aws.scope import AwsScope
from collector.collect import collects

#: Gateway load balancers pass traffic through (GENEVE) and have no TLS to judge.
JUDGED_TYPES = ("application", "network")


@collects(
    LoadBalancerListeners,
    permissions=[
        "elasticloadbalancing:DescribeLoadBalancers",
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeSSLPolicies",
    ],
    scope="region",
)
def load_balancer_listeners(scope: AwsScope) -> LoadBalancerListeners:
    """DescribeLoadBalancers, then DescribeListeners per balancer, then DescribeRules per HTTP
    listener (a non-default rule may forward plain HTTP even when the default redirects), then
    one DescribeSSLPolicies for the security policies in use."""
    elb = scope.client("elbv2")
    listeners = []
    for page in elb.get_paginator("describe_load_balancers").paginate():
        for lb in page.get("LoadBalancers", []):
            if lb.get("Type") not in JUDGED_TYPES:
                continue
            pages = elb.get_paginator("describe_listeners").paginate(
                LoadBalancerArn=lb["LoadBalancerArn"]
            )
            for listed in (li for p in pages for li in p.get("Listeners", [])):
                actions: list[ListenerAction] = []
                if listed["Protocol"] == "HTTP":
                    rules = _rules(elb, listed["ListenerArn"])
                    actions = [_action(a) for rule in rules for a in rule.get("Actions", [])]
                listeners.append(
                    Listener(
                        arn=listed["ListenerArn"],
                        load_balancer=lb["LoadBalancerName"],
                        protocol=listed["Protocol"],
                        port=int(listed["Port"]),
                        actions=tuple(actions),
                        ssl_policy=listed.get("SslPolicy"),
                    )
                )
    versions = _policy_versions(elb, {li.ssl_policy for li in listeners if li.ssl_policy})
    return LoadBalancerListeners(
        region=scope.region,
        listeners=tuple(
            li.model_copy(update={"tls_versions": versions.get(li.ssl_policy or "", ())})
            for li in listeners
        ),
    )


def _policy_versions(elb: Any, names: set[str]) -> dict[str, tuple[str, ...]]:
    """Protocol versions (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3) each named security policy allows."""
    if not names:
        return {}
    answer = elb.describe_ssl_policies(Names=sorted(names))
    return {
        p["Name"]: tuple(sorted(p.get("SslProtocols") or ())) for p in answer.get("SslPolicies", [])
    }


def _rules(elb: Any, listener_arn: str) -> list[dict[str, Any]]:
    pages = elb.get_paginator("describe_rules").paginate(ListenerArn=listener_arn)
    return [rule for page in pages for rule in page.get("Rules", [])]


def _action(action: dict[str, Any]) -> ListenerAction:
    redirect = action.get("RedirectConfig") or {}
    return ListenerAction(type=action["Type"], redirect_protocol=redirect.get("Protocol"))
