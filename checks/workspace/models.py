"""Typed Google Workspace snapshots (Admin SDK Directory API users); no secrets.

``collected_at`` and the configured inactivity window travel with the users, so the checks
stay pure functions of the snapshot.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Snapshot, SnapshotPart

__all__ = ["WorkspaceUser", "WorkspaceUsers"]


class WorkspaceUser(SnapshotPart):
    id: str
    email: str
    suspended: bool
    archived: bool
    super_admin: bool  # isAdmin
    delegated_admin: bool  # isDelegatedAdmin: holds an admin role short of super admin
    enrolled_2sv: bool
    enforced_2sv: bool
    created_at: AwareDatetime | None
    last_login: AwareDatetime | None  # None: never logged in

    @property
    def active(self) -> bool:
        """Can sign in: neither suspended nor archived."""
        return not (self.suspended or self.archived)

    @property
    def admin(self) -> bool:
        return self.super_admin or self.delegated_admin


class WorkspaceUsers(Snapshot):
    provider: ClassVar[str] = "workspace"
    resource_noun: ClassVar[str] = "users"
    domain: str
    collected_at: AwareDatetime
    inactive_days: int
    users: tuple[WorkspaceUser, ...]
