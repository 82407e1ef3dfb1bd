"""One azure-identity credential per configured tenant, chosen by config, secrets from env.

``default`` is DefaultAzureCredential; in a container set ``AZURE_TOKEN_CREDENTIALS=prod`` so
it tries only the environment, workload identity and managed identity (no developer tools).
Secrets are read from the environment variable the config names and never stored or logged.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping

from azure.core.credentials import TokenCredential
from azure.identity import (
    CertificateCredential,
    ClientSecretCredential,
    DefaultAzureCredential,
    WorkloadIdentityCredential,
)

from collector.settings import AzureTenant


class CredentialError(Exception):
    """The configured credential cannot be built (a missing environment variable...)."""


def make_credential(
    tenant: AzureTenant, environ: Mapping[str, str] = os.environ
) -> TokenCredential:
    """The credential ``tenant.credential`` names, for ``tenant.tenant_id``."""
    if tenant.credential == "client_secret":
        assert tenant.client_id and tenant.client_secret_env  # validated in settings
        return ClientSecretCredential(
            tenant.tenant_id, tenant.client_id, _env(environ, tenant.client_secret_env)
        )
    if tenant.credential == "certificate":
        assert tenant.client_id and tenant.certificate_path
        password = (
            _env(environ, tenant.certificate_password_env)
            if tenant.certificate_password_env
            else None
        )
        return CertificateCredential(
            tenant.tenant_id,
            tenant.client_id,
            certificate_path=str(tenant.certificate_path),
            password=password,
        )
    if tenant.credential == "workload_identity":
        # client id and token file default to AZURE_CLIENT_ID / AZURE_FEDERATED_TOKEN_FILE
        return WorkloadIdentityCredential(tenant_id=tenant.tenant_id, client_id=tenant.client_id)
    return DefaultAzureCredential(managed_identity_client_id=tenant.client_id)


def token_tenant(token: str) -> str | None:
    """The ``tid`` claim of an Entra access token, or ``None`` when it is not a readable JWT.

    Only used to refuse a token from another tenant (the default chain picks its own): the
    API verifies the signature, we only read the claim.
    """
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return None
    tid = claims.get("tid") if isinstance(claims, dict) else None
    return tid if isinstance(tid, str) else None


def _env(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name)
    if not value:
        raise CredentialError(f"environment variable {name} is not set")
    return value
