"""What to grant for the selected Azure, Entra ID and Intune checks, read-only.

Notation: ``graph:<Application permission>`` (an app role of Microsoft Graph, granted to the
app registration with admin consent) and ``azure-role:<built-in role>`` (an Azure RBAC role
assigned to the app's service principal on each subscription, or a management group above).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.azure.accounts import PERMISSIONS as ACCOUNT_PERMISSIONS
from collector.settings import Settings

GRAPH_PREFIX = "graph:"
ROLE_PREFIX = "azure-role:"


def app_registration(
    permissions: Iterable[str], settings: Settings | None = None
) -> dict[str, Any]:
    """The Graph application permissions and Azure roles ``permissions`` amount to.

    ``settings`` is unused: what to grant does not depend on which tenants are configured.
    """
    declared = set(permissions)
    if any(p.startswith(ROLE_PREFIX) for p in declared):
        declared |= set(ACCOUNT_PERMISSIONS)
    graph = sorted(p.removeprefix(GRAPH_PREFIX) for p in declared if p.startswith(GRAPH_PREFIX))
    roles = sorted(p.removeprefix(ROLE_PREFIX) for p in declared if p.startswith(ROLE_PREFIX))
    unknown = sorted(p for p in declared if not p.startswith((GRAPH_PREFIX, ROLE_PREFIX)))
    if unknown:
        raise ValueError(f"unknown permission notation: {', '.join(unknown)}")
    document: dict[str, Any] = {}
    if graph:
        document["graph_application_permissions"] = graph
        document["graph_consent"] = (
            "Microsoft Graph > Application permissions on the app registration, then "
            "'Grant admin consent' (az ad app permission add / admin-consent)"
        )
    if roles:
        document["azure_roles"] = roles
        document["azure_role_scope"] = (
            "each subscription to audit, or a management group above them "
            "(az role assignment create --assignee <app id> --role <role> --scope <scope>)"
        )
    return document
