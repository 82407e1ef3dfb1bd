"""Storage, Key Vault, SQL and App Service: recorded ARM answers -> snapshots -> verdicts."""

from __future__ import annotations

import pytest
import respx

from checks.azure import appservice, keyvault, sql, storage
from checks.azure.models import KeyVaults, SqlServers, StorageAccounts, WebApps
from checks.testing import findings, verdicts
from collector.azure.errors import AzureApiError, MalformedResponse
from tests.azure.fakes import RG, SUB, arm, collect, serve

STORAGE = f"{SUB}/providers/Microsoft.Storage/storageAccounts"
SQL = f"{RG}/Microsoft.Sql/servers"
WEB = f"{RG}/Microsoft.Web/sites"


def account(name: str) -> str:
    return f"{RG}/Microsoft.Storage/storageAccounts/{name}"


def serve_storage(api: respx.MockRouter) -> None:
    # the second page first: both pages share path and api-version, only page 2 has a token
    serve(api, arm(STORAGE), "arm/storage_page2.json", **{"$skipToken": "page2"})
    serve(api, arm(STORAGE), "arm/storage_page1.json", **{"api-version": "2023-05-01"})


def test_storage_accounts_over_two_pages(api: respx.MockRouter) -> None:
    serve_storage(api)
    accounts = collect(StorageAccounts)

    assert verdicts(storage.secure_transfer_required, accounts) == {
        (account("stsecure"), True),
        (account("stlegacy"), False),
        (account("stunset"), True),
    }
    assert verdicts(storage.public_blob_access_disabled, accounts) == {
        (account("stsecure"), True),
        (account("stlegacy"), False),
        (account("stunset"), False),  # not set: not confirmed off
    }
    assert verdicts(storage.minimum_tls_1_2, accounts) == {
        (account("stsecure"), True),
        (account("stlegacy"), False),
        (account("stunset"), False),
    }
    assert verdicts(storage.zone_or_geo_redundant, accounts) == {
        (account("stsecure"), True),  # RA-GZRS
        (account("stlegacy"), False),  # LRS: one datacenter
        (account("stunset"), True),  # ZRS
    }


def test_no_storage_accounts_is_no_finding(api: respx.MockRouter) -> None:
    serve(api, arm(STORAGE), body={"value": []})
    assert verdicts(storage.secure_transfer_required, collect(StorageAccounts)) == set()


def test_denied_list_names_the_action(api: respx.MockRouter) -> None:
    serve(api, arm(STORAGE), "arm/error_authorization_failed.json", status=403)
    with pytest.raises(AzureApiError) as denied:
        collect(StorageAccounts)
    assert denied.value.permission == "Microsoft.Storage/storageAccounts/read"
    assert denied.value.cause.startswith(
        "HTTP 403 AuthorizationFailed on GET "
        "/subscriptions/11111111-1111-4111-8111-111111111111/providers/"
        "Microsoft.Storage/storageAccounts: The client"
    )
    assert denied.value.cause.endswith(
        "(missing permission: Microsoft.Storage/storageAccounts/read)"
    )


def test_resource_without_properties_is_malformed(api: respx.MockRouter) -> None:
    serve(api, arm(STORAGE), body={"value": [{"id": account("x"), "name": "x"}]})
    with pytest.raises(MalformedResponse, match="storage account: resource without id"):
        collect(StorageAccounts)


def test_key_vaults(api: respx.MockRouter) -> None:
    path = f"{SUB}/providers/Microsoft.KeyVault/vaults"
    serve(api, arm(path), "arm/keyvaults.json", **{"api-version": "2023-07-01"})
    vaults = collect(KeyVaults)
    good, old = (f"{RG}/Microsoft.KeyVault/vaults/{n}" for n in ("kv-good", "kv-old"))

    assert verdicts(keyvault.soft_delete_enabled, vaults) == {(good, True), (old, False)}
    assert verdicts(keyvault.purge_protection_enabled, vaults) == {(good, True), (old, False)}


def serve_sql(api: respx.MockRouter) -> None:
    """Servers - List with ``$expand=administrators/activedirectory`` (the only way the list
    carries ``administrators``), each server's auditing, azureADOnlyAuthentications and
    databases, as learn.microsoft.com/rest/api/sql (api-version 2021-11-01) documents them."""
    serve(
        api,
        arm(f"{SUB}/providers/Microsoft.Sql/servers"),
        "arm/sql_servers.json",
        **{"$expand": "administrators/activedirectory"},
    )
    for server, db in (("sql-good", "appdb"), ("sql-legacy", "legacydb"), ("sql-mixed", None)):
        serve(
            api, arm(f"{SQL}/{server}/auditingSettings/default"), f"arm/sql_{server}_auditing.json"
        )
        serve(
            api,
            arm(f"{SQL}/{server}/azureADOnlyAuthentications"),
            f"arm/sql_{server}_entra_only.json",
        )
        serve(api, arm(f"{SQL}/{server}/databases"), f"arm/sql_{server}_databases.json")
        if db:
            serve(
                api,
                arm(f"{SQL}/{server}/databases/{db}/transparentDataEncryption/current"),
                f"arm/sql_{db}_tde.json",
                **{"api-version": "2021-11-01"},
            )


def test_sql_servers_auditing_tde_and_entra_admin(api: respx.MockRouter) -> None:
    serve_sql(api)
    servers = collect(SqlServers)
    good, legacy, mixed = f"{SQL}/sql-good", f"{SQL}/sql-legacy", f"{SQL}/sql-mixed"

    assert verdicts(sql.auditing_enabled, servers) == {
        (good, True),
        (legacy, False),
        (mixed, True),
    }
    assert verdicts(sql.entra_admin_configured, servers) == {
        (good, True),
        (legacy, False),
        (mixed, False),  # an Entra admin, but SQL logins still accepted
    }
    assert verdicts(sql.tde_enabled, servers) == {  # master is not judged
        (f"{good}/databases/appdb", True),
        (f"{legacy}/databases/legacydb", False),
    }
    assert [f.message for f in findings(sql.entra_admin_configured, servers)] == [
        "Entra admin sql-admins; Entra-only authentication on",
        "no Entra admin: SQL logins only",
        "Entra admin dba-team, but SQL logins still accepted",
    ]


def test_app_service_https_and_tls(api: respx.MockRouter) -> None:
    serve(api, arm(f"{SUB}/providers/Microsoft.Web/sites"), "arm/sites.json")
    for app in ("app-good", "app-legacy"):
        serve(api, arm(f"{WEB}/{app}/config/web"), f"arm/site_{app}_config.json")
    apps = collect(WebApps)
    good, legacy = f"{WEB}/app-good", f"{WEB}/app-legacy"

    assert verdicts(appservice.https_only, apps) == {(good, True), (legacy, False)}
    assert verdicts(appservice.minimum_tls_1_2, apps) == {(good, True), (legacy, False)}


@pytest.mark.parametrize(
    ("version", "ok"),
    [("TLS1_2", True), ("TLS1_3", True), ("1.2", True), ("TLS1_1", False), (None, False)],
)
def test_tls_versions(version: str | None, ok: bool) -> None:
    assert storage.tls_at_least_1_2(version) is ok
