"""Storage account checks: HTTPS only, no anonymous blob access, TLS 1.2 or later, copies kept
beyond one datacenter."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.azure.models import StorageAccounts


def tls_at_least_1_2(version: str | None) -> bool:
    """``TLS1_2``/``TLS1_3`` (storage) or ``1.2``/``1.3`` (App Service); unset is not enough."""
    if not version:
        return False
    digits = version.upper().removeprefix("TLS").replace("_", ".")
    try:
        major, minor = (int(p) for p in digits.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (1, 2)


@check(
    id="azure.storage.secure_transfer_required",
    title="Storage accounts accept only HTTPS (secure transfer required)",
    severity="high",
    remediation="Set 'Secure transfer required' on the storage account "
    "(az storage account update --https-only true).",
)
def secure_transfer_required(storage: StorageAccounts) -> Iterator[Finding]:
    for account in storage.accounts:
        yield Finding(
            resource=account.id,
            passed=account.https_only,
            message="HTTPS only" if account.https_only else "accepts plain HTTP requests",
        )


@check(
    id="azure.storage.public_blob_access_disabled",
    title="Storage accounts disallow anonymous (public) blob access",
    severity="high",
    remediation="Set 'Allow Blob anonymous access' to Disabled "
    "(az storage account update --allow-blob-public-access false).",
)
def public_blob_access_disabled(storage: StorageAccounts) -> Iterator[Finding]:
    for account in storage.accounts:
        allowed = account.allow_blob_public_access
        yield Finding(
            resource=account.id,
            passed=allowed is False,
            message={
                False: "anonymous blob access disallowed",
                True: "anonymous blob access allowed",
                None: "anonymous blob access not explicitly disallowed",
            }[allowed],
        )


@check(
    id="azure.storage.minimum_tls_1_2",
    title="Storage accounts require TLS 1.2 or later",
    severity="medium",
    remediation="Set the minimum TLS version to 1.2 "
    "(az storage account update --min-tls-version TLS1_2).",
)
def minimum_tls_1_2(storage: StorageAccounts) -> Iterator[Finding]:
    for account in storage.accounts:
        yield Finding(
            resource=account.id,
            passed=tls_at_least_1_2(account.minimum_tls_version),
            message=f"minimum TLS version {account.minimum_tls_version or 'not set (TLS 1.0)'}",
        )


@check(
    id="azure.storage.zone_or_geo_redundant",
    title="Storage accounts keep copies in more than one zone or region",
    severity="medium",
    interval="24h",
    remediation="Change the account's redundancy to ZRS, GRS, RA-GRS, GZRS or RA-GZRS "
    "(az storage account update --sku Standard_ZRS; some changes need a conversion request).",
)
def zone_or_geo_redundant(storage: StorageAccounts) -> Iterator[Finding]:
    """Locally redundant storage (``*_LRS``) keeps every copy in one datacenter and fails; an
    account whose SKU is not reported fails too."""
    for account in storage.accounts:
        sku = account.replication
        passed = sku is not None and not sku.upper().endswith("_LRS")
        yield Finding(
            resource=account.id,
            passed=passed,
            message=f"replication {sku}" if sku else "replication (SKU) not reported",
        )
