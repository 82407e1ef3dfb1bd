"""Typed Okta snapshots: users, their active factors, password and MFA policies, admin roles.

Snapshots whose verdicts depend on age or configured thresholds carry them (``collected_at``,
``inactive_days``, ``min_length``...), so the checks stay pure functions; no secrets.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Snapshot, SnapshotPart

__all__ = [
    "ACTIVE_STATUSES",
    "OktaAdmin",
    "OktaAdmins",
    "OktaFactors",
    "OktaMfaPolicies",
    "OktaMfaPolicy",
    "OktaMfaRule",
    "OktaPasswordPolicies",
    "OktaPasswordPolicy",
    "OktaUser",
    "OktaUsers",
]

#: User statuses in which the account can still sign in (after a reset or unlock, for some).
ACTIVE_STATUSES = frozenset({"ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"})


class _OktaSnapshot(Snapshot):
    provider: ClassVar[str] = "okta"


class OktaUser(SnapshotPart):
    id: str
    login: str
    status: str  # ACTIVE, PROVISIONED, STAGED, SUSPENDED, LOCKED_OUT, PASSWORD_EXPIRED...
    created_at: AwareDatetime | None
    activated_at: AwareDatetime | None
    last_login: AwareDatetime | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class OktaUsers(_OktaSnapshot):
    resource_noun: ClassVar[str] = "users"
    org: str
    collected_at: AwareDatetime
    inactive_days: int
    users: tuple[OktaUser, ...]


class OktaFactors(_OktaSnapshot):
    """Active factors (``factorType:provider``) of every user who can sign in, by user id."""

    resource_noun: ClassVar[str] = "users"
    active_factors: dict[str, tuple[str, ...]]


class OktaPasswordPolicy(SnapshotPart):
    id: str
    name: str
    priority: int
    min_length: int
    classes_required: tuple[str, ...]  # lower, upper, number, symbol
    common_passwords_excluded: bool
    history_count: int


class OktaPasswordPolicies(_OktaSnapshot):
    resource_noun: ClassVar[str] = "password policies"
    min_length: int  # configured thresholds
    history_count: int
    policies: tuple[OktaPasswordPolicy, ...]  # ACTIVE policies only


class OktaMfaRule(SnapshotPart):
    """One ACTIVE rule, as far as the MFA verdict goes."""

    name: str
    priority: int
    allows: bool  # access ALLOW (else DENY)
    requires_mfa: bool  # sign-on: requireFactor; authentication policy: factorMode 2FA
    narrowed: tuple[str, ...]  # conditions that limit whom or where it applies


class OktaMfaPolicy(SnapshotPart):
    id: str
    name: str
    type: str  # OKTA_SIGN_ON (global session) | ACCESS_POLICY (authentication policy)
    everyone: bool  # applies to every user (sign-on: the default policy or the Everyone group)
    rules: tuple[OktaMfaRule, ...]  # ACTIVE rules by priority


class OktaMfaPolicies(_OktaSnapshot):
    resource_noun: ClassVar[str] = "policies"
    org: str
    policies: tuple[OktaMfaPolicy, ...]  # ACTIVE policies only


class OktaAdmin(SnapshotPart):
    id: str
    login: str
    status: str
    roles: tuple[str, ...]  # role types (SUPER_ADMIN, ORG_ADMIN...) or custom role labels


class OktaAdmins(_OktaSnapshot):
    resource_noun: ClassVar[str] = "administrators"
    admins: tuple[OktaAdmin, ...]
