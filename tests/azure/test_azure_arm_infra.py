"""Network, Defender, Activity Log, VM disks and backups: recorded ARM answers -> verdicts."""

from __future__ import annotations

import pytest
import respx

from checks.azure import compute, monitoring, network
from checks.azure.models import (
    ActivityLogExports,
    BackupProtectedItems,
    DefenderPlans,
    FlowLogs,
    NetworkSecurityGroup,
    NetworkSecurityGroups,
    SecurityRule,
    VirtualMachines,
)
from checks.network import InternetPrefix
from checks.testing import findings, verdicts
from collector.collect import Target
from collector.settings import AzureSettings
from tests.azure.fakes import RG, SUB, SUBSCRIPTION, arm, azure_cache, collect, serve

NSG = f"{RG}/Microsoft.Network/networkSecurityGroups"
VM = f"{RG}/Microsoft.Compute/virtualMachines"
WATCHER = (
    f"{SUB}/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/"
    "NetworkWatcher_westeurope"
)


def serve_network(api: respx.MockRouter) -> None:
    serve(api, arm(f"{SUB}/providers/Microsoft.Network/networkSecurityGroups"), "arm/nsgs.json")
    serve(
        api, arm(f"{SUB}/providers/Microsoft.Network/networkWatchers"), "arm/network_watchers.json"
    )
    serve(api, arm(f"{WATCHER}/flowLogs"), "arm/flow_logs.json", **{"api-version": "2023-09-01"})


def test_admin_ports_and_flow_logs(api: respx.MockRouter) -> None:
    serve_network(api)
    cache = azure_cache()
    target = Target("azure", SUBSCRIPTION)
    groups, logs = cache.get(NetworkSecurityGroups, target), cache.get(FlowLogs, target)

    assert verdicts(network.nsg_admin_ports_restricted, groups) == {
        (f"{NSG}/nsg-web", True),  # SSH only from private ranges
        (f"{NSG}/nsg-open", False),  # RDP from *
        (f"{NSG}/nsg-shadowed", True),  # an earlier Deny wins over the Allow
    }
    assert [f.message for f in findings(network.nsg_admin_ports_restricted, groups)][1] == (
        "open to the internet: RDP (3389/tcp) by rule allow-rdp; RDP (3389/udp) by rule allow-rdp"
    )
    assert verdicts(network.nsg_flow_logs_enabled, groups, logs) == {
        (f"{NSG}/nsg-web", True),  # VNet flow log on its subnet's VNet (ids differ in case)
        (f"{NSG}/nsg-open", False),  # its flow log is disabled
        (f"{NSG}/nsg-shadowed", True),
    }


def rule(
    priority: int, access: str, source: str, ports: str, protocol: str = "Tcp"
) -> SecurityRule:
    return SecurityRule(
        name=f"r{priority}",
        priority=priority,
        direction="Inbound",
        access=access,
        protocol=protocol,
        sources=(source,),
        ports=(ports,),
    )


def test_udp_left_open_by_a_tcp_only_deny() -> None:
    group = NetworkSecurityGroup(
        id="nsg",
        name="nsg",
        rules=(rule(100, "Deny", "*", "3389"), rule(200, "Allow", "Internet", "*", "*")),
    )
    assert network.exposed_admin_ports(group) == [
        "SSH (22/tcp) by rule r200",
        "SSH (22/udp) by rule r200",
        "RDP (3389/udp) by rule r200",
    ]


def test_nsg_judged_by_address_space() -> None:
    """Split halves and a wide public range open SSH; a Deny of half the internet before an
    Allow of everything still leaves the other half open; a narrow public range does not."""

    def group(*rules: SecurityRule) -> NetworkSecurityGroup:
        return NetworkSecurityGroup(id="nsg", name="nsg", rules=rules)

    halves = group(rule(100, "Allow", "0.0.0.0/1", "22"), rule(110, "Allow", "128.0.0.0/1", "22"))
    halves6 = group(rule(100, "Allow", "::/1", "3389"), rule(110, "Allow", "8000::/1", "3389"))
    half_denied = group(rule(100, "Deny", "0.0.0.0/1", "22"), rule(200, "Allow", "*", "22"))
    all_denied = group(
        rule(100, "Deny", "0.0.0.0/0", "22"),
        rule(101, "Deny", "::/0", "22"),
        rule(200, "Allow", "Internet", "22"),
    )
    narrow = group(rule(100, "Allow", "3.5.0.0/24", "22"), rule(110, "Allow", "10.0.0.0/8", "22"))
    assert network.exposed_admin_ports(halves) == ["SSH (22/tcp) by rule r100, r110"]
    # 8000::/1 holds no public (global unicast 2000::/3) address: only r100 admits any
    assert network.exposed_admin_ports(halves6) == ["RDP (3389/tcp) by rule r100"]
    assert network.exposed_admin_ports(half_denied) == ["SSH (22/tcp) by rule r200"]
    assert network.exposed_admin_ports(all_denied) == []
    assert network.exposed_admin_ports(narrow) == []
    wide = group(rule(100, "Allow", "3.0.0.0/15", "22"))
    assert network.exposed_admin_ports(wide) == ["SSH (22/tcp) by rule r100"]
    assert network.exposed_admin_ports(wide, InternetPrefix(ipv4=12)) == []


def test_defender_plans(api: respx.MockRouter) -> None:
    serve(
        api,
        arm(f"{SUB}/providers/Microsoft.Security/pricings"),
        "arm/pricings.json",
        **{"api-version": "2024-01-01"},
    )
    plans = collect(DefenderPlans)
    pricing = f"{SUB}/providers/Microsoft.Security/pricings"

    assert verdicts(monitoring.plans_standard, plans) == {
        (f"{pricing}/VirtualMachines", True),
        (f"{pricing}/SqlServers", True),
        (f"{pricing}/AppServices", False),
        (f"{pricing}/StorageAccounts", True),
        (f"{pricing}/KeyVaults", False),
        (f"{pricing}/Arm", True),
        (f"{pricing}/Containers", False),  # not listed: not on
    }
    narrowed = collect(DefenderPlans, settings=AzureSettings(defender_plans=["Arm"]))
    assert verdicts(monitoring.plans_standard, narrowed) == {(f"{pricing}/Arm", True)}


@pytest.mark.parametrize(
    ("name", "body", "exported"),
    [
        ("arm/diagnostics_exported.json", None, True),
        ("arm/diagnostics_partial.json", None, False),  # Policy only
        (None, {"value": []}, False),  # no diagnostic setting
    ],
)
def test_activity_log_exported(
    api: respx.MockRouter, name: str | None, body: dict | None, exported: bool
) -> None:
    path = arm(f"{SUB}/providers/Microsoft.Insights/diagnosticSettings")
    serve(api, path, name, body=body, **{"api-version": "2021-05-01-preview"})
    exports = collect(ActivityLogExports)
    assert verdicts(monitoring.activity_log_exported, exports) == {(SUB, exported)}


def serve_compute(api: respx.MockRouter) -> None:
    serve(api, arm(f"{SUB}/providers/Microsoft.Compute/virtualMachines"), "arm/vms.json")
    serve(api, arm(f"{SUB}/providers/Microsoft.Compute/disks"), "arm/disks.json")
    serve(api, arm(f"{SUB}/providers/Microsoft.RecoveryServices/vaults"), "arm/vaults.json")
    serve(
        api,
        arm(f"{RG}/Microsoft.RecoveryServices/vaults/rsv-prod/backupProtectedItems"),
        "arm/protected_items.json",
        **{"$filter": "backupManagementType eq 'AzureIaasVM'"},
    )


def test_vm_disk_encryption_and_backup(api: respx.MockRouter) -> None:
    serve_compute(api)
    cache = azure_cache()
    target = Target("azure", SUBSCRIPTION)
    vms, backups = cache.get(VirtualMachines, target), cache.get(BackupProtectedItems, target)

    assert verdicts(compute.vm_disks_encrypted, vms) == {
        (f"{VM}/vm-host", True),  # encryption at host
        (f"{VM}/vm-cmk", True),  # OS disk: customer key; data disk: ADE
        (f"{VM}/vm-pmk", False),  # platform key only
    }
    assert findings(compute.vm_disks_encrypted, vms)[2].message == (
        "only platform-managed encryption on: vm-pmk-os, vm-pmk-data"
    )
    assert verdicts(compute.vms_protected, vms, backups) == {
        (f"{VM}/vm-host", True),
        (f"{VM}/vm-cmk", False),  # in no vault
        (f"{VM}/vm-pmk", False),  # protection stopped, no policy
    }
    assert [f.message for f in findings(compute.vms_protected, vms, backups)] == [
        "backup Protected in vault rsv-prod",
        "not in any Recovery Services vault",
        "backup ProtectionStopped in vault rsv-prod without a policy",
    ]
