"""Azure SQL checks: server auditing, transparent data encryption, an Entra administrator."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.azure.models import SqlServers


@check(
    id="azure.sql.auditing_enabled",
    title="SQL servers have auditing enabled",
    severity="medium",
    remediation="Enable server-level auditing to a Log Analytics workspace, storage account "
    "or event hub (Azure SQL server > Auditing).",
)
def auditing_enabled(sql: SqlServers) -> Iterator[Finding]:
    for server in sql.servers:
        yield Finding(
            resource=server.id,
            passed=server.auditing_enabled,
            message="server auditing on" if server.auditing_enabled else "server auditing off",
        )


@check(
    id="azure.sql.tde_enabled",
    title="SQL databases have transparent data encryption enabled",
    severity="high",
    remediation="Turn transparent data encryption on for the database "
    "(az sql db tde set --status Enabled).",
)
def tde_enabled(sql: SqlServers) -> Iterator[Finding]:
    for server in sql.servers:
        for db in server.databases:
            yield Finding(
                resource=db.id,
                passed=db.tde_enabled,
                message="TDE on" if db.tde_enabled else "TDE off",
            )


@check(
    id="azure.sql.entra_admin_configured",
    title="SQL servers have a Microsoft Entra administrator and accept Entra authentication only",
    severity="medium",
    version=2,
    remediation="Set a Microsoft Entra admin (a group) on the server and turn on Microsoft "
    "Entra-only authentication, so no SQL login can sign in (az sql server ad-admin create; "
    "az sql server ad-only-auth enable).",
)
def entra_admin_configured(sql: SqlServers) -> Iterator[Finding]:
    """One finding per server: an Entra admin, and SQL authentication switched off."""
    for server in sql.servers:
        admin = server.entra_admin
        if admin is None:
            message = "no Entra admin: SQL logins only"
        elif server.entra_only:
            message = f"Entra admin {admin}; Entra-only authentication on"
        else:
            message = f"Entra admin {admin}, but SQL logins still accepted"
        yield Finding(
            resource=server.id, passed=admin is not None and server.entra_only, message=message
        )
