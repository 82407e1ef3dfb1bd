"""Typed Azure Resource Manager snapshots: only what the built-in checks judge, no secrets.

Resource ids are ARM ids as Azure returns them; compare them case-insensitively (ARM does).
"""

from __future__ import annotations

from typing import ClassVar

from checks.api import Snapshot, SnapshotPart
from checks.network import InternetPrefix

__all__ = [
    "ActivityLogExports",
    "BackupProtectedItems",
    "DefenderPlan",
    "DefenderPlans",
    "DiagnosticSetting",
    "FlowLog",
    "FlowLogs",
    "KeyVault",
    "KeyVaults",
    "ManagedDisk",
    "NetworkSecurityGroup",
    "NetworkSecurityGroups",
    "ProtectedItem",
    "SecurityRule",
    "SqlDatabase",
    "SqlServer",
    "SqlServers",
    "StorageAccount",
    "StorageAccounts",
    "VirtualMachine",
    "VirtualMachines",
    "WebApp",
    "WebApps",
]


class _AzureSnapshot(Snapshot):
    provider: ClassVar[str] = "azure"


class StorageAccount(SnapshotPart):
    id: str
    name: str
    https_only: bool
    allow_blob_public_access: bool | None  # None: not set on the account
    minimum_tls_version: str | None  # TLS1_0, TLS1_1, TLS1_2, TLS1_3; None: not set
    replication: str | None = None  # sku.name: Standard_LRS, Standard_ZRS, Standard_GRS, ...


class StorageAccounts(_AzureSnapshot):
    resource_noun: ClassVar[str] = "storage accounts"
    accounts: tuple[StorageAccount, ...]


class KeyVault(SnapshotPart):
    id: str
    name: str
    soft_delete: bool | None  # None: not set (on by default since 2021 but unconfirmed)
    purge_protection: bool


class KeyVaults(_AzureSnapshot):
    resource_noun: ClassVar[str] = "key vaults"
    vaults: tuple[KeyVault, ...]


class SqlDatabase(SnapshotPart):
    id: str
    name: str
    tde_enabled: bool


class SqlServer(SnapshotPart):
    id: str
    name: str
    auditing_enabled: bool
    entra_admin: str | None  # login of the Microsoft Entra administrator, if any
    entra_only: bool = False  # azureADOnlyAuthentication: SQL logins refused
    databases: tuple[SqlDatabase, ...]  # user databases (master excluded)


class SqlServers(_AzureSnapshot):
    resource_noun: ClassVar[str] = "SQL servers"
    servers: tuple[SqlServer, ...]


class SecurityRule(SnapshotPart):
    name: str
    priority: int
    direction: str  # Inbound | Outbound
    access: str  # Allow | Deny
    protocol: str  # Tcp | Udp | Icmp | Esp | Ah | *
    sources: tuple[str, ...]  # address prefixes or service tags
    ports: tuple[str, ...]  # destination port ranges: "22", "20-30", "*"


class NetworkSecurityGroup(SnapshotPart):
    id: str
    name: str
    rules: tuple[SecurityRule, ...]  # custom rules; the default rules never admit the internet
    subnets: tuple[str, ...] = ()  # ids of the subnets it is attached to


class NetworkSecurityGroups(_AzureSnapshot):
    resource_noun: ClassVar[str] = "network security groups"
    groups: tuple[NetworkSecurityGroup, ...]
    internet_prefix: InternetPrefix = InternetPrefix()  # the config's azure.internet_prefix


class FlowLog(SnapshotPart):
    id: str
    target_id: str  # the NSG, or (VNet flow logs) a virtual network or subnet
    enabled: bool


class FlowLogs(_AzureSnapshot):
    resource_noun: ClassVar[str] = "flow logs"
    flow_logs: tuple[FlowLog, ...]


class DefenderPlan(SnapshotPart):
    id: str
    name: str
    tier: str  # Free | Standard


class DefenderPlans(_AzureSnapshot):
    """The subscription's Defender for Cloud plans and the plans the config requires."""

    resource_noun: ClassVar[str] = "Defender plans"
    subscription: str  # /subscriptions/<id>
    plans: tuple[DefenderPlan, ...]
    required: tuple[str, ...]


class DiagnosticSetting(SnapshotPart):
    id: str
    name: str
    destinations: tuple[str, ...]  # workspace, storage, event hub, partner: the kinds set
    categories: tuple[str, ...]  # enabled log categories (or category groups such as allLogs)


class ActivityLogExports(_AzureSnapshot):
    resource_noun: ClassVar[str] = "subscriptions"
    subscription: str
    settings: tuple[DiagnosticSetting, ...]


class ManagedDisk(SnapshotPart):
    id: str
    name: str
    encryption_type: str | None  # EncryptionAtRestWith{PlatformKey,CustomerKey,...}
    disk_encryption_set: str | None
    ade_enabled: bool  # Azure Disk Encryption (BitLocker/DM-Crypt) settings on the disk


class VirtualMachine(SnapshotPart):
    id: str
    name: str
    encryption_at_host: bool
    disk_ids: tuple[str, ...]  # OS and data disks (managed)
    unmanaged_disks: int = 0  # VHD blobs: not managed disks, never judged encrypted here


class VirtualMachines(_AzureSnapshot):
    resource_noun: ClassVar[str] = "virtual machines"
    vms: tuple[VirtualMachine, ...]
    disks: tuple[ManagedDisk, ...]


class WebApp(SnapshotPart):
    id: str
    name: str
    https_only: bool
    min_tls_version: str | None  # "1.0", "1.1", "1.2", "1.3"


class WebApps(_AzureSnapshot):
    resource_noun: ClassVar[str] = "App Service apps"
    apps: tuple[WebApp, ...]


class ProtectedItem(SnapshotPart):
    vault: str
    source_id: str  # the VM
    name: str | None = None  # friendlyName: how the vault's jobs name it (entityFriendlyName)
    state: str  # Protected, IRPending, ProtectionStopped, ProtectionError, ProtectionPaused
    policy: str | None


class BackupProtectedItems(_AzureSnapshot):
    resource_noun: ClassVar[str] = "backup items"
    items: tuple[ProtectedItem, ...]
    vaults: tuple[str, ...] = ()  # ids of the subscription's Recovery Services vaults
