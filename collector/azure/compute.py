"""ARM collectors for compute: virtual machines with their managed disks, and VM backups."""

from __future__ import annotations

from typing import Any

from checks.azure.models import (
    BackupProtectedItems,
    ManagedDisk,
    ProtectedItem,
    VirtualMachine,
    VirtualMachines,
)
from collector.azure.arm import READER, list_resources, properties
from collector.azure.scope import AzureScope
from collector.collect import collects

COMPUTE_API = "2024-03-01"
DISKS_API = "2023-10-02"
BACKUP_API = "2023-04-01"


@collects(VirtualMachines, permissions=[READER])
def virtual_machines(scope: AzureScope) -> VirtualMachines:
    """VMs (encryption at host, attached disks) and the subscription's managed disks."""
    vms = []
    for item in list_resources(scope, "Microsoft.Compute/virtualMachines", COMPUTE_API):
        props = properties(item, "virtual machine")
        storage = props.get("storageProfile") or {}
        attached = [storage.get("osDisk") or {}, *(storage.get("dataDisks") or [])]
        vms.append(
            VirtualMachine(
                id=item["id"],
                name=item.get("name", item["id"]),
                encryption_at_host=(props.get("securityProfile") or {}).get("encryptionAtHost")
                is True,
                disk_ids=tuple(d["managedDisk"]["id"] for d in attached if d.get("managedDisk")),
                unmanaged_disks=sum(1 for d in attached if d.get("vhd")),
            )
        )
    disks = [_disk(item) for item in list_resources(scope, "Microsoft.Compute/disks", DISKS_API)]
    return VirtualMachines(vms=tuple(vms), disks=tuple(disks))


def _disk(item: dict[str, Any]) -> ManagedDisk:
    props = properties(item, "managed disk")
    encryption = props.get("encryption") or {}
    return ManagedDisk(
        id=item["id"],
        name=item.get("name", item["id"]),
        encryption_type=encryption.get("type"),
        disk_encryption_set=encryption.get("diskEncryptionSetId"),
        ade_enabled=(props.get("encryptionSettingsCollection") or {}).get("enabled") is True,
    )


@collects(BackupProtectedItems, permissions=[READER])
def backup_protected_items(scope: AzureScope) -> BackupProtectedItems:
    """Azure VM backup items of every Recovery Services vault in the subscription."""
    items = []
    vaults = list_resources(scope, "Microsoft.RecoveryServices/vaults", BACKUP_API)
    for vault in vaults:
        answer = scope.api.list(
            f"{vault['id']}/backupProtectedItems",
            api_version=BACKUP_API,
            params={"$filter": "backupManagementType eq 'AzureIaasVM'"},
            requires=READER,
        )
        for item in answer:
            props = properties(item, "backup protected item")
            items.append(
                ProtectedItem(
                    vault=vault["id"],
                    source_id=props["sourceResourceId"],
                    state=props.get("protectionState", ""),
                    policy=props.get("policyId") or None,
                    name=props.get("friendlyName"),
                )
            )
    return BackupProtectedItems(items=tuple(items), vaults=tuple(v["id"] for v in vaults))
