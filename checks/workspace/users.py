"""Google Workspace user checks: 2-Step Verification enrolled and enforced, inactive accounts
suspended, and how many super administrators there are."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from checks.api import Finding, check
from checks.workspace.models import WorkspaceUser, WorkspaceUsers

#: At least two super admins (one may be a break-glass account), at most four.
MIN_SUPER_ADMINS, MAX_SUPER_ADMINS = 2, 4


def _active(users: WorkspaceUsers) -> list[WorkspaceUser]:
    return [u for u in users.users if u.active]


@check(
    id="workspace.users.two_step_enrolled",
    title="Every active Workspace user is enrolled in 2-Step Verification",
    severity="high",
    remediation="Ask the users listed to enrol in 2-Step Verification (Security > 2-Step "
    "Verification), then enforce it for their organisational unit.",
)
def two_step_enrolled(users: WorkspaceUsers) -> Iterator[Finding]:
    """One finding per active (not suspended, not archived) user."""
    for user in _active(users):
        yield Finding(
            resource=user.email,
            passed=user.enrolled_2sv,
            message="enrolled in 2SV" if user.enrolled_2sv else "not enrolled in 2SV",
        )


@check(
    id="workspace.users.two_step_enforced",
    title="2-Step Verification is enforced for every active Workspace user",
    severity="high",
    remediation="Admin console > Security > Authentication > 2-Step Verification: turn on "
    "Enforcement for every organisational unit (after an enrolment period).",
)
def two_step_enforced(users: WorkspaceUsers) -> Iterator[Finding]:
    """One finding per active user: enrolment alone can be undone by the user."""
    for user in _active(users):
        yield Finding(
            resource=user.email,
            passed=user.enforced_2sv,
            message="2SV enforced" if user.enforced_2sv else "2SV not enforced",
        )


@check(
    id="workspace.admins.two_step_enforced",
    title="Every Workspace administrator is enrolled in and enforced to use 2-Step Verification",
    severity="critical",
    remediation="Put administrators in an organisational unit or group where 2SV (ideally "
    "security keys) is enforced, and have each one enrol now.",
)
def admins_two_step_enforced(users: WorkspaceUsers) -> Iterator[Finding]:
    """One finding per active super or delegated administrator: enrolled AND enforced."""
    for user in _active(users):
        if not user.admin:
            continue
        missing = [
            what
            for what, ok in (("enrolled", user.enrolled_2sv), ("enforced", user.enforced_2sv))
            if not ok
        ]
        role = "super admin" if user.super_admin else "delegated admin"
        yield Finding(
            resource=user.email,
            passed=not missing,
            message=f"{role}: 2SV enrolled and enforced"
            if not missing
            else f"{role}: 2SV not {' or '.join(missing)}",
        )


@check(
    id="workspace.users.inactive_suspended",
    title="Workspace users who have not logged in within the inactivity window are suspended",
    severity="medium",
    remediation="Suspend or delete accounts with no login for the configured number of days "
    "(workspace.inactive_days, default 90).",
)
def inactive_suspended(users: WorkspaceUsers) -> Iterator[Finding]:
    """One finding per active user: logged in within the window, or created within it (a new
    user may not have logged in yet); otherwise the account should be suspended."""
    since = users.collected_at - timedelta(days=users.inactive_days)
    for user in _active(users):
        recent = any(t is not None and t >= since for t in (user.last_login, user.created_at))
        seen = user.last_login.date().isoformat() if user.last_login else "never"
        yield Finding(
            resource=user.email,
            passed=recent,
            message=f"last login {seen}"
            + ("" if recent else f": inactive over {users.inactive_days} days, not suspended"),
        )


@check(
    id="workspace.admins.count",
    title="Between 2 and 4 Workspace super administrators",
    severity="high",
    remediation="Keep at least two super admins (one may be a break-glass account) and at most "
    "four; give day-to-day administrators delegated admin roles instead.",
)
def super_admin_count(users: WorkspaceUsers) -> Iterator[Finding]:
    """One finding for the domain, counting active super admins (delegated admins aside)."""
    admins = sorted(u.email for u in _active(users) if u.super_admin)
    ok = MIN_SUPER_ADMINS <= len(admins) <= MAX_SUPER_ADMINS
    yield Finding(
        resource=users.domain,
        passed=ok,
        message=f"{len(admins)} super admin(s): {', '.join(admins) or 'none'}"
        + ("" if ok else f"; expected {MIN_SUPER_ADMINS} to {MAX_SUPER_ADMINS}"),
    )
