"""Typed Microsoft Entra ID snapshots: who, what they hold and how they sign in; no secrets.

Snapshots whose verdicts depend on age carry ``collected_at`` (their "now") and the policy
the config set, so a check stays a pure function of its snapshots.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict

from checks.api import Snapshot

__all__ = [
    "AppRegistration",
    "AppRegistrations",
    "ClientSecret",
    "ConditionalAccess",
    "ConditionalAccessPolicy",
    "DirectoryRole",
    "DirectoryRoles",
    "EntraUser",
    "EntraUsers",
    "MfaRegistration",
    "MfaRegistrations",
    "RoleMember",
]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _EntraSnapshot(Snapshot):
    provider: ClassVar[str] = "entra"


class EntraUser(_Part):
    id: str
    upn: str
    user_type: str  # Member | Guest
    enabled: bool
    created_at: AwareDatetime | None
    last_sign_in: AwareDatetime | None  # last successful sign-in (None: never)


class EntraUsers(_EntraSnapshot):
    resource_noun: ClassVar[str] = "users"
    collected_at: AwareDatetime
    inactive_days: int
    users: tuple[EntraUser, ...]

    def by_id(self) -> dict[str, EntraUser]:
        return {u.id: u for u in self.users}


class MfaRegistration(_Part):
    """A row of ``reports/authenticationMethods/userRegistrationDetails``."""

    id: str
    upn: str
    user_type: str
    is_admin: bool
    mfa_registered: bool


class MfaRegistrations(_EntraSnapshot):
    resource_noun: ClassVar[str] = "users"
    users: tuple[MfaRegistration, ...]


class ConditionalAccessPolicy(_Part):
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
    narrowed: tuple[str, ...] = ()  # conditions that limit where it applies (locations...)


class ConditionalAccess(_EntraSnapshot):
    resource_noun: ClassVar[str] = "tenants"
    tenant: str
    security_defaults_enabled: bool
    policies: tuple[ConditionalAccessPolicy, ...]


class RoleMember(_Part):
    id: str
    kind: str  # user | group | servicePrincipal
    name: str  # user principal name, or display name


class DirectoryRole(_Part):
    template_id: str
    name: str
    members: tuple[RoleMember, ...]  # active assignments (PIM-eligible members are not here)


class DirectoryRoles(_EntraSnapshot):
    resource_noun: ClassVar[str] = "role assignments"
    tenant: str
    roles: tuple[DirectoryRole, ...]


class ClientSecret(_Part):
    """A client secret's metadata (never its value or hint)."""

    key_id: str
    start: AwareDatetime | None
    end: AwareDatetime | None  # None: never expires


class AppRegistration(_Part):
    id: str
    app_id: str
    name: str
    secrets: tuple[ClientSecret, ...]


class AppRegistrations(_EntraSnapshot):
    resource_noun: ClassVar[str] = "app registrations"
    collected_at: AwareDatetime
    max_lifetime_days: int
    apps: tuple[AppRegistration, ...]
