"""Typed Microsoft Entra ID snapshots: who, what they hold and how they sign in; no secrets.

Snapshots whose verdicts depend on age carry ``collected_at`` (their "now") and the policy
the config set, so a check stays a pure function of its snapshots.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Snapshot, SnapshotPart

__all__ = [
    "AppRegistration",
    "AppRegistrations",
    "ClientSecret",
    "ConditionalAccess",
    "ConditionalAccessPolicy",
    "DirectoryRole",
    "DirectoryRoles",
    "EntraSignIns",
    "EntraUser",
    "EntraUsers",
    "MfaRegistration",
    "MfaRegistrations",
    "RoleMember",
]


class _EntraSnapshot(Snapshot):
    provider: ClassVar[str] = "entra"


class EntraUser(SnapshotPart):
    id: str
    upn: str
    user_type: str  # Member | Guest
    enabled: bool
    created_at: AwareDatetime | None


class EntraUsers(_EntraSnapshot):
    """Every user (any licence); sign-in activity is :class:`EntraSignIns`."""

    resource_noun: ClassVar[str] = "users"
    users: tuple[EntraUser, ...]

    def by_id(self) -> dict[str, EntraUser]:
        return {u.id: u for u in self.users}


class EntraSignIns(_EntraSnapshot):
    """Each user's last successful sign-in (None: never), by user id; needs Entra ID P1."""

    resource_noun: ClassVar[str] = "users"
    collected_at: AwareDatetime
    inactive_days: int
    last_sign_in: dict[str, AwareDatetime | None]


class MfaRegistration(SnapshotPart):
    """A row of ``reports/authenticationMethods/userRegistrationDetails``."""

    id: str
    upn: str
    user_type: str
    is_admin: bool
    mfa_registered: bool


class MfaRegistrations(_EntraSnapshot):
    resource_noun: ClassVar[str] = "users"
    users: tuple[MfaRegistration, ...]


class ConditionalAccessPolicy(SnapshotPart):
    """The parts of a Conditional Access policy that decide whom and what it covers."""

    id: str
    name: str
    state: str  # enabled | disabled | enabledForReportingButNotEnforced
    include_users: tuple[str, ...]  # "All", "GuestsOrExternalUsers", user ids
    include_applications: tuple[str, ...]  # "All", app ids
    client_app_types: tuple[str, ...]  # all, browser, mobileAppsAndDesktopClients, ...
    built_in_controls: tuple[str, ...]  # mfa, block, compliantDevice, ...
    grant_operator: str = "OR"  # how built-in controls combine: AND | OR
    authentication_strength: bool = False  # requires an authentication strength (MFA or more)
    #: the strength's id and allowed method combinations (fido2, windowsHelloForBusiness...)
    strength_id: str | None = None
    strength_combinations: tuple[str, ...] = ()
    include_roles: tuple[str, ...] = ()  # role template ids the policy targets
    narrowed: tuple[str, ...] = ()  # conditions that limit where it applies (locations...)
    exclude_users: tuple[str, ...] = ()  # user ids, or "GuestsOrExternalUsers"
    exclude_groups: tuple[str, ...] = ()
    exclude_roles: tuple[str, ...] = ()  # role template ids
    exclude_applications: tuple[str, ...] = ()
    exclude_guests: bool = False  # excludeGuestsOrExternalUsers is set
    terms_of_use: tuple[str, ...] = ()  # ids of the terms of use agreements to accept


class ConditionalAccess(_EntraSnapshot):
    resource_noun: ClassVar[str] = "tenants"
    tenant: str
    security_defaults_enabled: bool
    policies: tuple[ConditionalAccessPolicy, ...]
    break_glass: tuple[str, ...] = ()  # configured ids a policy may exclude


class RoleMember(SnapshotPart):
    id: str
    kind: str  # user | group | servicePrincipal
    name: str  # user principal name, or display name
    via: str | None = None  # the role-assignable group it holds the role through


class DirectoryRole(SnapshotPart):
    template_id: str
    name: str
    #: active assignments (PIM-eligible members are not here); a group's transitive members
    #: follow it, each with ``via`` naming the group
    members: tuple[RoleMember, ...]

    def principals(self) -> dict[str, RoleMember]:
        """Users and service principals holding the role, directly or through groups, once."""
        found: dict[str, RoleMember] = {}
        for member in self.members:
            if member.kind != "group" and (member.id not in found or member.via is None):
                found[member.id] = member
        return found


class DirectoryRoles(_EntraSnapshot):
    resource_noun: ClassVar[str] = "role assignments"
    tenant: str
    roles: tuple[DirectoryRole, ...]


class ClientSecret(SnapshotPart):
    """A client secret's metadata (never its value or hint)."""

    key_id: str
    start: AwareDatetime | None
    end: AwareDatetime | None  # None: never expires


class AppRegistration(SnapshotPart):
    id: str
    app_id: str
    name: str
    secrets: tuple[ClientSecret, ...]


class AppRegistrations(_EntraSnapshot):
    resource_noun: ClassVar[str] = "app registrations"
    collected_at: AwareDatetime
    max_lifetime_days: int
    apps: tuple[AppRegistration, ...]
