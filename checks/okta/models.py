"""Typed Okta snapshots: users, their active factors, password and MFA policies, admin roles.

Snapshots whose verdicts depend on age or configured thresholds carry them (``collected_at``,
``inactive_days``, ``min_length``...), so the checks stay pure functions; no secrets.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import AwareDatetime

from checks.api import Snapshot, SnapshotPart

__all__ = [
    "ACTIVE_STATUSES",
    "FACTOR_STRENGTH",
    "STRENGTHS",
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
    "factor_strength",
]

#: User statuses in which the account can still sign in (after a reset or unlock, for some).
ACTIVE_STATUSES = frozenset({"ACTIVE", "PASSWORD_EXPIRED", "LOCKED_OUT", "RECOVERY"})


#: How strong each Okta factor type is, weakest first in :data:`STRENGTHS`. Security question
#: and email are not a second factor anyone should count; SMS and voice are weak (phishable,
#: SIM swap); an unknown type counts as the weakest.
STRENGTHS = ("none", "weak", "strong", "phishing_resistant")
FACTOR_STRENGTH = {
    "question": "none",
    "email": "none",
    "sms": "weak",
    "call": "weak",
    "push": "strong",
    "token": "strong",
    "token:software:totp": "strong",
    "token:hotp": "strong",
    "token:hardware": "strong",
    "webauthn": "phishing_resistant",
    "u2f": "phishing_resistant",
    "signed_nonce": "phishing_resistant",  # Okta FastPass
}


def factor_strength(factor: str) -> str:
    """The strength class of an active factor written ``factorType:provider``."""
    factor_type = factor.rsplit(":", 1)[0] if ":" in factor else factor
    return FACTOR_STRENGTH.get(factor_type, "none")


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
    """Active factors (``factorType:provider``) of every user who can sign in, by user id, and
    the weakest factor strength that counts (``okta.mfa_min_strength``)."""

    resource_noun: ClassVar[str] = "users"
    active_factors: dict[str, tuple[str, ...]]
    min_strength: Literal["weak", "strong", "phishing_resistant"] = "weak"

    def counted(self, user_id: str) -> tuple[str, ...]:
        """The user's active factors at least as strong as ``min_strength``."""
        floor = STRENGTHS.index(self.min_strength)
        return tuple(
            f
            for f in self.active_factors.get(user_id, ())
            if STRENGTHS.index(factor_strength(f)) >= floor
        )


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
    apps: tuple[str, ...] = ()  # ACCESS_POLICY: ids of the apps mapped to it


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
