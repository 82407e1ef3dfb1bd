"""Key Vault checks: deleted keys and secrets are recoverable, and cannot be purged early."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.azure.models import KeyVaults


@check(
    id="azure.keyvault.soft_delete_enabled",
    title="Key vaults have soft delete enabled",
    severity="medium",
    remediation="Enable soft delete on the vault (on by default for new vaults since 2021).",
)
def soft_delete_enabled(vaults: KeyVaults) -> Iterator[Finding]:
    for vault in vaults.vaults:
        on = vault.soft_delete is True
        yield Finding(
            resource=vault.id,
            passed=on,
            message="soft delete on" if on else "soft delete off or not confirmed",
        )


@check(
    id="azure.keyvault.purge_protection_enabled",
    title="Key vaults have purge protection enabled",
    severity="medium",
    remediation="Enable purge protection (az keyvault update --enable-purge-protection true); "
    "it cannot be turned off again.",
)
def purge_protection_enabled(vaults: KeyVaults) -> Iterator[Finding]:
    for vault in vaults.vaults:
        yield Finding(
            resource=vault.id,
            passed=vault.purge_protection,
            message="purge protection on" if vault.purge_protection else "purge protection off",
        )
