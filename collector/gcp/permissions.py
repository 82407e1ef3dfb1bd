"""What to grant for the selected GCP checks: Cloud Asset Inventory and Security Command
Center read permissions.

Notation: ``gcp:<IAM permission>``. ``roles/cloudasset.viewer`` holds the ``cloudasset.*`` ones
and ``roles/securitycenter.findingsViewer`` the ``securitycenter.*`` ones; grant them at each
configured scope (organisation, folder or project) to the audit identity.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.settings import Settings

PREFIX = "gcp:"
ROLE = "roles/cloudasset.viewer"
FINDINGS_ROLE = "roles/securitycenter.findingsViewer"


def render(permissions: Iterable[str], settings: Settings | None = None) -> dict[str, Any]:
    """The provider hook (see ``collector.providers``): the role and the permissions."""
    declared = set(permissions)
    unknown = sorted(p for p in declared if not p.startswith(PREFIX))
    if unknown:
        raise ValueError(f"unknown permission notation: {', '.join(unknown)}")
    scopes = settings.gcp.scopes if settings else []
    extra = (
        [FINDINGS_ROLE] if any(p.startswith(f"{PREFIX}securitycenter.") for p in declared) else []
    )
    return {
        "role": ROLE,
        "also_roles": extra,
        "permissions": sorted(p.removeprefix(PREFIX) for p in declared),
        "grant_at": scopes or ["organizations/<id>, folders/<id> or projects/<id> to audit"],
        "how": "gcloud <organizations|resource-manager folders|projects> add-iam-policy-binding "
        f"<id> --member=<principal> --role={ROLE} (or a custom role with the permissions)",
    }
