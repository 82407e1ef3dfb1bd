"""Route 53 Resolver DNS Firewall on every VPC: moto for the VPCs, AWS's JSON 1.1 wire shape
for the resolver's firewall answers moto lacks (docs.aws.amazon.com/Route53/latest/
APIReference/API_route53resolver_ListFirewallRuleGroupAssociations.html and
API_route53resolver_ListFirewallRules.html), with NextToken paging and a denied call."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from checks.aws.dns_firewall import DnsFirewall, dns_firewall_on_vpcs
from checks.testing import findings, verdicts
from collector.aws.demo_estate import serve_unrouted_wire_by_region
from collector.testing import collect_aws
from tests.aws.errors import error_answer
from tests.aws.wire import ACCOUNT

REGION = "eu-west-1"


def association(vpc: str, group: str, status: str = "COMPLETE") -> dict[str, object]:
    return {
        "Id": f"rslvr-frgassoc-{vpc[-8:]}{group[-4:]}",
        "Arn": f"arn:aws:route53resolver:{REGION}:{ACCOUNT}:firewall-rule-group-association/x",
        "FirewallRuleGroupId": group,
        "VpcId": vpc,
        "Name": f"{group}-on-{vpc}",
        "Priority": 101,
        "MutationProtection": "ENABLED",
        "Status": status,
        "StatusMessage": "Finished rule group association",
        "CreatorRequestId": "annexa-test",
        "CreationTime": "2024-05-01T10:00:00.000000Z",
        "ModificationTime": "2024-05-01T10:00:00.000000Z",
    }


def rule(group: str, name: str, action: str) -> dict[str, object]:
    blocked = {"BlockResponse": "NODATA"} if action == "BLOCK" else {}
    return {
        "FirewallRuleGroupId": group,
        "FirewallDomainListId": f"rslvr-fdl-{name}",
        "Name": name,
        "Priority": 100,
        "Action": action,
        **blocked,
        "CreatorRequestId": "annexa-test",
        "CreationTime": "2024-05-01T10:00:00.000000Z",
        "ModificationTime": "2024-05-01T10:00:00.000000Z",
    }


def serve_firewall(
    session: boto3.Session, associations: list[dict], rules: dict[str, list[dict]]
) -> list[str]:
    """Associations in two pages; each group's rules, one per page. Returns the groups
    ListFirewallRules was asked about."""
    asked: list[str] = []

    def association_pages(region: str, request: object) -> bytes:
        sent = json.loads(request.body or b"{}")  # type: ignore[attr-defined]
        if sent.get("NextToken"):
            return json.dumps({"FirewallRuleGroupAssociations": associations[1:]}).encode()
        page = {"FirewallRuleGroupAssociations": associations[:1], "NextToken": "p2"}
        return json.dumps(page).encode()

    def rule_pages(region: str, request: object) -> bytes:
        sent = json.loads(request.body)  # type: ignore[attr-defined]
        group, start = sent["FirewallRuleGroupId"], int(sent.get("NextToken") or 0)
        asked.append(group)
        mine = rules[group][start : start + 1]
        more = {"NextToken": str(start + 1)} if start + 1 < len(rules[group]) else {}
        return json.dumps({"FirewallRules": mine, **more}).encode()

    serve_unrouted_wire_by_region(
        session, "route53resolver.ListFirewallRuleGroupAssociations", association_pages
    )
    serve_unrouted_wire_by_region(session, "route53resolver.ListFirewallRules", rule_pages)
    return asked


def vpc(session: boto3.Session, cidr: str) -> str:
    return session.client("ec2", region_name=REGION).create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


def arn(vpc_id: str) -> str:
    return f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{vpc_id}"


def test_only_vpcs_whose_complete_association_blocks_pass(session) -> None:
    filtered, alerting, updating, bare = (vpc(session, f"10.{i}.0.0/16") for i in range(1, 5))
    asked = serve_firewall(
        session,
        [
            association(filtered, "rslvr-frg-block"),
            association(alerting, "rslvr-frg-alert"),
            association(updating, "rslvr-frg-block", status="UPDATING"),
        ],
        {
            "rslvr-frg-block": [rule("rslvr-frg-block", "allow-corp", "ALLOW"),
                                rule("rslvr-frg-block", "malware", "BLOCK")],
            "rslvr-frg-alert": [rule("rslvr-frg-alert", "watch", "ALERT")],
        },
    )  # fmt: skip
    snapshot = collect_aws(DnsFirewall, session, region=REGION)
    default = {v.vpc_id for v in snapshot.vpcs} - {filtered, alerting, updating, bare}
    assert verdicts(dns_firewall_on_vpcs, snapshot) == {
        (arn(filtered), True),
        (arn(alerting), False),
        (arn(updating), False),
        (arn(bare), False),
    } | {(arn(v), False) for v in default}  # moto's default VPC: no firewall either
    messages = {f.resource: f.message for f in findings(dns_firewall_on_vpcs, snapshot)}
    assert messages[arn(filtered)] == "blocked by rule group rslvr-frg-block-on-" + filtered
    assert messages[arn(alerting)] == f"rslvr-frg-alert-on-{alerting}: COMPLETE, 0 blocking rule(s)"
    assert messages[arn(updating)].endswith(": UPDATING, 1 blocking rule(s)")
    assert messages[arn(bare)] == "no DNS Firewall rule group"
    assert sorted(asked) == ["rslvr-frg-alert", "rslvr-frg-block", "rslvr-frg-block"]  # 2 pages


def test_a_denied_association_list_is_an_error_not_a_verdict(session) -> None:
    vpc(session, "10.1.0.0/16")
    body, kind = error_answer(
        "json",
        "route53resolver",
        "AccessDeniedException",
        f"User: arn:aws:iam::{ACCOUNT}:user/audit is not authorized to perform: "
        "route53resolver:ListFirewallRuleGroupAssociations",
    )
    serve_unrouted_wire_by_region(
        session,
        "route53resolver.ListFirewallRuleGroupAssociations",
        lambda *_: body,
        status=400,
        content_type=kind,
    )
    with pytest.raises(ClientError, match="ListFirewallRuleGroupAssociations"):
        collect_aws(DnsFirewall, session, region=REGION)
