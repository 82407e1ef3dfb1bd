"""Okta user checks: MFA enrolled, inactive accounts deactivated, administrators listed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from checks.api import Finding, check
from checks.okta.models import ACTIVE_STATUSES, OktaAdmins, OktaFactors, OktaUsers


def _enrolment(factors: OktaFactors, user_id: str) -> tuple[bool, str]:
    counted = factors.counted(user_id)
    if counted:
        return True, f"active factors: {', '.join(counted)}"
    others = factors.active_factors.get(user_id, ())
    if others:
        return False, (f"only factors weaker than {factors.min_strength}: {', '.join(others)}")
    return False, "no active factor"


@check(
    id="okta.users.mfa_enrolled",
    title="Every active Okta user has an active MFA factor of the configured strength",
    severity="high",
    version=2,
    remediation="Require factor enrolment (an authenticator enrollment policy for Everyone) "
    "with Okta Verify, FastPass or a security key, and follow up the users listed.",
)
def mfa_enrolled(users: OktaUsers, factors: OktaFactors) -> Iterator[Finding]:
    """One finding per user who can sign in (ACTIVE, PASSWORD_EXPIRED, LOCKED_OUT, RECOVERY).
    Security question and email never count; SMS and voice count unless
    ``okta.mfa_min_strength`` is ``strong`` or ``phishing_resistant``."""
    for user in users.users:
        if not user.active:
            continue
        passed, message = _enrolment(factors, user.id)
        yield Finding(resource=user.login, passed=passed, message=message)


@check(
    id="okta.users.inactive_deactivated",
    title="Okta users who have not signed in within the inactivity window are deactivated",
    severity="medium",
    remediation="Suspend or deactivate users with no sign-in for the configured number of days "
    "(okta.inactive_days, default 90), e.g. with an automation on user inactivity.",
)
def inactive_deactivated(users: OktaUsers) -> Iterator[Finding]:
    """One finding per user who can sign in: signed in, or was activated or created, within
    the window (a new user may not have signed in yet)."""
    since = users.collected_at - timedelta(days=users.inactive_days)
    for user in users.users:
        if not user.active:
            continue
        times = (user.last_login, user.activated_at, user.created_at)
        recent = any(t is not None and t >= since for t in times)
        seen = user.last_login.date().isoformat() if user.last_login else "never"
        yield Finding(
            resource=user.login,
            passed=recent,
            message=f"last sign-in {seen}"
            + ("" if recent else f": inactive over {users.inactive_days} days, {user.status}"),
        )


@check(
    id="okta.admins.listed",
    title="Okta administrators are listed, each with an active MFA factor",
    severity="high",
    version=2,
    remediation="Review the administrators listed; remove roles no longer needed and have every "
    "administrator enrol a phishing-resistant factor.",
)
def admins_listed(admins: OktaAdmins, factors: OktaFactors) -> Iterator[Finding]:
    """One finding per user holding an admin role (directly or through a group); it passes
    when the admin has an active factor, or when the account cannot sign in at all."""
    for admin in admins.admins:
        roles = ", ".join(admin.roles) or "no role listed"
        if admin.status not in ACTIVE_STATUSES:
            yield Finding(
                resource=admin.login,
                passed=True,
                message=f"{roles}; account {admin.status}, cannot sign in",
            )
            continue
        passed, message = _enrolment(factors, admin.id)
        yield Finding(
            resource=admin.login,
            passed=passed,
            message=f"{roles}; " + ("MFA enrolled" if passed else message),
        )
