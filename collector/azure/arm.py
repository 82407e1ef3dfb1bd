"""ARM collectors for data services: storage accounts, Key Vault, SQL servers, App Service.

Every call reads the subscription with the Reader role; api-versions are pinned per call.
"""

from __future__ import annotations

from typing import Any

from checks.azure.models import (
    KeyVault,
    KeyVaults,
    SqlDatabase,
    SqlServer,
    SqlServers,
    StorageAccount,
    StorageAccounts,
    WebApp,
    WebApps,
)
from collector.azure.errors import MalformedResponse
from collector.azure.scope import AzureScope
from collector.collect import collects

READER = "azure-role:Reader"
STORAGE_API = "2023-05-01"
KEYVAULT_API = "2023-07-01"
SQL_API = "2021-11-01"
WEB_API = "2023-12-01"


def properties(item: dict[str, Any], what: str) -> dict[str, Any]:
    """An ARM resource's ``properties`` object (a missing one is a malformed answer)."""
    props = item.get("properties")
    if not isinstance(props, dict) or not isinstance(item.get("id"), str):
        raise MalformedResponse(what, "resource without id or properties")
    return props


def list_resources(scope: AzureScope, provider_type: str, api_version: str) -> list[dict[str, Any]]:
    """Every resource of ``provider_type`` (``Microsoft.Storage/storageAccounts``)."""
    path = f"{scope.subscription}/providers/{provider_type}"
    return scope.api.list(path, api_version=api_version, requires=READER)


@collects(StorageAccounts, permissions=[READER])
def storage_accounts(scope: AzureScope) -> StorageAccounts:
    """Storage accounts with their transport, public-access, TLS and replication settings."""
    accounts = []
    for item in list_resources(scope, "Microsoft.Storage/storageAccounts", STORAGE_API):
        props = properties(item, "storage account")
        accounts.append(
            StorageAccount(
                id=item["id"],
                name=item.get("name", item["id"]),
                https_only=props.get("supportsHttpsTrafficOnly") is True,
                allow_blob_public_access=props.get("allowBlobPublicAccess"),
                minimum_tls_version=props.get("minimumTlsVersion"),
                replication=(item.get("sku") or {}).get("name"),
            )
        )
    return StorageAccounts(accounts=tuple(accounts))


@collects(KeyVaults, permissions=[READER])
def key_vaults(scope: AzureScope) -> KeyVaults:
    """Key vaults with their soft-delete and purge-protection settings."""
    vaults = []
    for item in list_resources(scope, "Microsoft.KeyVault/vaults", KEYVAULT_API):
        props = properties(item, "key vault")
        vaults.append(
            KeyVault(
                id=item["id"],
                name=item.get("name", item["id"]),
                soft_delete=props.get("enableSoftDelete"),
                purge_protection=props.get("enablePurgeProtection") is True,
            )
        )
    return KeyVaults(vaults=tuple(vaults))


@collects(SqlServers, permissions=[READER])
def sql_servers(scope: AzureScope) -> SqlServers:
    """SQL servers: server auditing, the Entra admin (the server list returns it only with
    ``$expand=administrators/activedirectory``), Entra-only authentication
    (``azureADOnlyAuthentications``) and TDE of each user database."""
    servers = []
    listed = scope.api.list(
        f"{scope.subscription}/providers/Microsoft.Sql/servers",
        api_version=SQL_API,
        params={"$expand": "administrators/activedirectory"},
        requires=READER,
    )
    for item in listed:
        props = properties(item, "SQL server")
        server_id = item["id"]
        auditing = scope.api.get(
            f"{server_id}/auditingSettings/default", api_version=SQL_API, requires=READER
        )
        admin = props.get("administrators") or {}
        entra_only = scope.api.list(
            f"{server_id}/azureADOnlyAuthentications", api_version=SQL_API, requires=READER
        )
        databases = []
        for db in scope.api.list(f"{server_id}/databases", api_version=SQL_API, requires=READER):
            if db.get("name") == "master":
                continue
            tde = scope.api.get(
                f"{db['id']}/transparentDataEncryption/current",
                api_version=SQL_API,
                requires=READER,
            )
            databases.append(
                SqlDatabase(
                    id=db["id"],
                    name=db.get("name", db["id"]),
                    tde_enabled=properties(tde, "TDE").get("state") == "Enabled",
                )
            )
        servers.append(
            SqlServer(
                id=server_id,
                name=item.get("name", server_id),
                auditing_enabled=auditing.get("properties", {}).get("state") == "Enabled",
                entra_admin=admin.get("login") if admin.get("administratorType") else None,
                entra_only=any(
                    properties(o, "Entra-only authentication").get("azureADOnlyAuthentication")
                    is True
                    for o in entra_only
                ),
                databases=tuple(databases),
            )
        )
    return SqlServers(servers=tuple(servers))


@collects(WebApps, permissions=[READER])
def web_apps(scope: AzureScope) -> WebApps:
    """App Service apps (web and function apps): HTTPS-only and the minimum TLS version."""
    apps = []
    for item in list_resources(scope, "Microsoft.Web/sites", WEB_API):
        props = properties(item, "App Service app")
        config = scope.api.get(f"{item['id']}/config/web", api_version=WEB_API, requires=READER)
        apps.append(
            WebApp(
                id=item["id"],
                name=item.get("name", item["id"]),
                https_only=props.get("httpsOnly") is True,
                min_tls_version=properties(config, "site config").get("minTlsVersion"),
            )
        )
    return WebApps(apps=tuple(apps))
