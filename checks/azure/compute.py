"""Compute checks: VM disks encrypted under the organisation's control; VMs backed up."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.azure.models import BackupProtectedItems, ManagedDisk, VirtualMachines

#: Backup states in which a policy is protecting the VM (IRPending: first backup pending).
PROTECTED_STATES = frozenset({"Protected", "IRPending"})


def _disk_ok(disk: ManagedDisk | None) -> bool:
    if disk is None:
        return False
    customer_key = "customerkey" in (disk.encryption_type or "").lower()
    return disk.ade_enabled or (customer_key and disk.disk_encryption_set is not None)


@check(
    id="azure.compute.vm_disks_encrypted",
    title="VM disks are encrypted at host, with a customer-managed key or with ADE",
    severity="medium",
    remediation="Enable encryption at host on the VM, or encrypt every disk with a disk "
    "encryption set (customer-managed key) or Azure Disk Encryption.",
)
def vm_disks_encrypted(compute: VirtualMachines) -> Iterator[Finding]:
    """Rule: platform-managed server-side encryption is always on and not enough on its own.
    A VM passes with encryption at host (covers temp disk and caches), or when every disk it
    has is managed and encrypted by a disk encryption set (customer-managed key) or by Azure
    Disk Encryption. Unmanaged (VHD) disks fail."""
    disks = {d.id.lower(): d for d in compute.disks}
    for vm in compute.vms:
        if vm.encryption_at_host:
            yield Finding(resource=vm.id, passed=True, message="encryption at host")
            continue
        weak = [
            disks[i.lower()].name if i.lower() in disks else i.rsplit("/", 1)[-1]
            for i in vm.disk_ids
            if not _disk_ok(disks.get(i.lower()))
        ]
        passed = not weak and not vm.unmanaged_disks and bool(vm.disk_ids)
        if passed:
            message = "every disk uses a customer-managed key or ADE"
        elif vm.unmanaged_disks:
            message = f"{vm.unmanaged_disks} unmanaged (VHD) disk(s)"
        else:
            message = "only platform-managed encryption on: " + ", ".join(weak)
        yield Finding(resource=vm.id, passed=passed, message=message)


@check(
    id="azure.backup.vms_protected",
    title="Virtual machines are protected by a backup policy",
    severity="high",
    remediation="Enable Azure Backup for the VM in a Recovery Services vault with a backup "
    "policy (az backup protection enable-for-vm).",
)
def vms_protected(compute: VirtualMachines, backups: BackupProtectedItems) -> Iterator[Finding]:
    """A VM passes when a vault protects it under a policy (Protected or IRPending)."""
    by_vm = {item.source_id.lower(): item for item in backups.items}
    for vm in compute.vms:
        item = by_vm.get(vm.id.lower())
        passed = item is not None and item.policy is not None and item.state in PROTECTED_STATES
        if item is None:
            message = "not in any Recovery Services vault"
        else:
            vault = item.vault.rsplit("/", 1)[-1]
            message = f"backup {item.state} in vault {vault}"
            if item.policy is None:
                message += " without a policy"
        yield Finding(resource=vm.id, passed=passed, message=message)
