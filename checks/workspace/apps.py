"""Third-party apps users granted access to their Google data: only allow-listed ones."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Finding, Snapshot, SnapshotPart, check


class AppGrant(SnapshotPart):
    """One OAuth client users authorised in the window (Reports API token ``authorize``)."""

    client_id: str
    app_name: str
    users: tuple[str, ...]
    scopes: tuple[str, ...]
    last_authorized: AwareDatetime


class WorkspaceAppGrants(Snapshot):
    """Apps authorised by users in the last ``window_days``, with the configured allow-list."""

    provider: ClassVar[str] = "workspace"
    resource_noun: ClassVar[str] = "authorised apps"

    domain: str
    window_days: int
    allowed: tuple[str, ...]  # client ids or app names
    apps: tuple[AppGrant, ...]


@check(
    id="workspace.apps.authorized_allowed",
    title="Users grant Google data access only to allow-listed third-party apps",
    severity="medium",
    interval="24h",
    remediation="Revoke the app's tokens (Admin console > Security > API controls > App access "
    "control), block it or restrict unconfigured apps; or add it to workspace.allowed_apps.",
)
def authorized_allowed(snapshot: WorkspaceAppGrants) -> Iterator[Finding]:
    """One finding per app users authorised in the window."""
    allowed = set(snapshot.allowed)
    for app in snapshot.apps:
        ok = app.client_id in allowed or app.app_name in allowed
        yield Finding(
            resource=app.client_id,
            passed=ok,
            message=f"{app.app_name} authorised by {len(app.users)} user(s), last "
            f"{app.last_authorized:%Y-%m-%d}: {'allow-listed' if ok else 'not on the allow-list'}",
        )
