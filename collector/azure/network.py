"""ARM collectors for networking: network security groups and Network Watcher flow logs."""

from __future__ import annotations

from typing import Any

from checks.azure.models import (
    FlowLog,
    FlowLogs,
    NetworkSecurityGroup,
    NetworkSecurityGroups,
    SecurityRule,
)
from collector.azure.arm import READER, list_resources, properties
from collector.azure.scope import AzureScope
from collector.collect import collects

NETWORK_API = "2023-09-01"


@collects(NetworkSecurityGroups, permissions=[READER])
def network_security_groups(scope: AzureScope) -> NetworkSecurityGroups:
    """NSGs with their custom security rules and the subnets they protect."""
    groups = []
    for item in list_resources(scope, "Microsoft.Network/networkSecurityGroups", NETWORK_API):
        props = properties(item, "network security group")
        groups.append(
            NetworkSecurityGroup(
                id=item["id"],
                name=item.get("name", item["id"]),
                rules=tuple(_rule(r) for r in props.get("securityRules", [])),
                subnets=tuple(s["id"] for s in props.get("subnets", [])),
            )
        )
    return NetworkSecurityGroups(
        groups=tuple(groups), internet_prefix=scope.settings.internet_prefix
    )


def _rule(item: dict[str, Any]) -> SecurityRule:
    props = properties(item, "security rule")
    return SecurityRule(
        name=item.get("name", item["id"]),
        priority=props["priority"],
        direction=props["direction"],
        access=props["access"],
        protocol=props["protocol"],
        sources=_many(props, "sourceAddressPrefix"),
        ports=_many(props, "destinationPortRange"),
    )


def _many(props: dict[str, Any], key: str) -> tuple[str, ...]:
    """ARM splits one value (``key``) and a list (``key + 'es'``/``'s'``); join them."""
    plural = props.get(key + "es", props.get(key + "s")) or []
    single = [props[key]] if props.get(key) else []
    return tuple(single + list(plural))


@collects(FlowLogs, permissions=[READER])
def flow_logs(scope: AzureScope) -> FlowLogs:
    """Flow logs of every Network Watcher in the subscription (NSG and VNet flow logs)."""
    logs = []
    for watcher in list_resources(scope, "Microsoft.Network/networkWatchers", NETWORK_API):
        path = f"{watcher['id']}/flowLogs"
        for item in scope.api.list(path, api_version=NETWORK_API, requires=READER):
            props = properties(item, "flow log")
            logs.append(
                FlowLog(
                    id=item["id"],
                    target_id=props["targetResourceId"],
                    enabled=props.get("enabled") is True,
                )
            )
    return FlowLogs(flow_logs=tuple(logs))
