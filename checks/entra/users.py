"""Entra ID user checks: MFA registration, inactive accounts, guests' last sign-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from checks.api import Finding, check
from checks.entra.models import EntraSignIns, EntraUser, EntraUsers, MfaRegistrations


def _members(users: EntraUsers) -> list[EntraUser]:
    return [u for u in users.users if u.enabled and u.user_type.lower() == "member"]


@check(
    id="entra.users.mfa_registered",
    title="Every enabled member user has registered MFA",
    severity="high",
    remediation="Require MFA registration (registration campaign, a Conditional Access "
    "policy or security defaults) and follow up the users listed.",
)
def mfa_registered(registrations: MfaRegistrations, users: EntraUsers) -> Iterator[Finding]:
    """One finding per enabled member user; a user missing from the report is not registered."""
    registered = {r.id for r in registrations.users if r.mfa_registered}
    for user in _members(users):
        ok = user.id in registered
        yield Finding(
            resource=user.upn,
            passed=ok,
            message="MFA registered" if ok else "no MFA method registered",
        )


@check(
    id="entra.admins.mfa_registered",
    title="Every administrator has registered MFA",
    severity="critical",
    remediation="Have each administrator register a phishing-resistant method now, and "
    "require MFA for admin roles with Conditional Access.",
)
def admins_mfa_registered(registrations: MfaRegistrations) -> Iterator[Finding]:
    """One finding per user the report marks as holding an admin role."""
    for row in registrations.users:
        if row.is_admin:
            yield Finding(
                resource=row.upn,
                passed=row.mfa_registered,
                message="MFA registered" if row.mfa_registered else "admin without MFA",
            )


def _last_seen(user: EntraUser, sign_ins: EntraSignIns) -> str:
    seen = sign_ins.last_sign_in.get(user.id)
    return seen.date().isoformat() if seen else "never"


def _active(user: EntraUser, sign_ins: EntraSignIns) -> bool:
    """Signed in within the window, or created within it (a new user may not have yet)."""
    since = sign_ins.collected_at - timedelta(days=sign_ins.inactive_days)
    times = (sign_ins.last_sign_in.get(user.id), user.created_at)
    return any(t is not None and t >= since for t in times)


@check(
    id="entra.users.inactive_disabled",
    title="Enabled member users have signed in within the inactivity window",
    severity="medium",
    remediation="Disable or remove accounts with no sign-in for the configured number of days "
    "(azure.entra.inactive_days, default 90), e.g. with access reviews.",
)
def inactive_disabled(users: EntraUsers, sign_ins: EntraSignIns) -> Iterator[Finding]:
    """One finding per enabled member user; needs sign-in activity (Entra ID P1)."""
    for user in _members(users):
        ok = _active(user, sign_ins)
        yield Finding(
            resource=user.upn,
            passed=ok,
            message=f"last sign-in {_last_seen(user, sign_ins)}"
            + ("" if ok else f": inactive over {sign_ins.inactive_days} days but enabled"),
        )


@check(
    id="entra.guests.recent_sign_in",
    title="Guest users have signed in within the inactivity window",
    severity="medium",
    remediation="Remove or disable guests who no longer sign in; run access reviews for guests.",
)
def guests_recent_sign_in(users: EntraUsers, sign_ins: EntraSignIns) -> Iterator[Finding]:
    """One finding per guest, with the last sign-in; a disabled guest has no access: passes."""
    for user in users.users:
        if user.user_type.lower() != "guest":
            continue
        ok = not user.enabled or _active(user, sign_ins)
        state = "" if user.enabled else " (disabled)"
        yield Finding(
            resource=user.upn,
            passed=ok,
            message=f"guest, last sign-in {_last_seen(user, sign_ins)}{state}",
        )
