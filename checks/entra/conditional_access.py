"""Conditional Access checks: MFA for all users, legacy authentication blocked, a managed device
and accepted terms of use required for all users, phishing-resistant MFA for administrators.

A policy counts only when it is enabled (not report-only), covers all users and all cloud
apps, has no condition that narrows it (locations, platforms, risk levels, device filter) and
excludes nobody but the configured emergency-access accounts (``azure.entra.
break_glass_accounts``, users or the group holding them): an excluded user, group, role,
app or guest class beyond those fails, and is named. Security defaults, when on, require MFA
and block legacy authentication for everyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from checks.api import Finding, check
from checks.entra.models import ConditionalAccess, ConditionalAccessPolicy
from checks.entra.roles import ROLE_NAMES

LEGACY_CLIENTS = frozenset({"exchangeActiveSync", "other"})
MODERN_CLIENTS = frozenset({"browser", "mobileAppsAndDesktopClients"})
#: Methods that resist phishing (the built-in "Phishing-resistant MFA" strength allows these).
PHISHING_RESISTANT = frozenset({"windowsHelloForBusiness", "fido2", "x509CertificateMultiFactor"})
PHISHING_RESISTANT_STRENGTH = "00000000-0000-0000-0000-000000000004"
#: Grant controls that need a managed device: Intune-compliant, or Microsoft Entra hybrid joined.
DEVICE_CONTROLS = frozenset({"compliantDevice", "domainJoinedDevice"})


def _everyone_everywhere(policy: ConditionalAccessPolicy) -> bool:
    return (
        policy.state == "enabled"
        and "All" in policy.include_users
        and "All" in policy.include_applications
        and not policy.narrowed
    )


def _all_sign_ins(policy: ConditionalAccessPolicy) -> bool:
    """Enabled for all users and apps, not narrowed, on every modern client (or all)."""
    clients = set(policy.client_app_types)
    return _everyone_everywhere(policy) and ("all" in clients or clients >= MODERN_CLIENTS)


def _requires_mfa(policy: ConditionalAccessPolicy) -> bool:
    controls = set(policy.built_in_controls)
    mfa_alone = "mfa" in controls and (len(controls) == 1 or policy.grant_operator == "AND")
    return _all_sign_ins(policy) and (mfa_alone or policy.authentication_strength)


def _requires_device(policy: ConditionalAccessPolicy) -> bool:
    """Every grant path needs a managed device: a device control alone or with other device
    controls (OR), or a device control required alongside others (AND)."""
    controls = set(policy.built_in_controls)
    device = bool(controls & DEVICE_CONTROLS) and (
        policy.grant_operator == "AND" or controls <= DEVICE_CONTROLS
    )
    return _all_sign_ins(policy) and device


def _requires_terms(policy: ConditionalAccessPolicy) -> bool:
    """Terms of use must be accepted on every grant path: alone, or with AND."""
    return (
        _all_sign_ins(policy)
        and bool(policy.terms_of_use)
        and (policy.grant_operator == "AND" or not policy.built_in_controls)
    )


def _blocks_legacy(policy: ConditionalAccessPolicy) -> bool:
    return (
        _everyone_everywhere(policy)
        and set(policy.client_app_types) >= LEGACY_CLIENTS
        and "block" in policy.built_in_controls
    )


def _exclusions(policy: ConditionalAccessPolicy, ca: ConditionalAccess) -> list[str]:
    """What the policy leaves out beyond the configured emergency-access accounts."""
    allowed = set(ca.break_glass)
    found = []
    for kind, ids in (
        ("users", policy.exclude_users),
        ("groups", policy.exclude_groups),
        ("roles", policy.exclude_roles),
        ("apps", policy.exclude_applications),
    ):
        extra = [i for i in ids if i not in allowed]
        if extra:
            found.append(f"{kind} {', '.join(extra)}")
    if policy.exclude_guests:
        found.append("guests or external users")
    return found


def _verdict(
    ca: ConditionalAccess,
    rule: Callable[[ConditionalAccessPolicy], bool],
    what: str,
    *,
    defaults: bool = True,
) -> Finding:
    """``defaults``: security defaults, when on, do what the rule asks."""
    if defaults and ca.security_defaults_enabled:
        return Finding(resource=ca.tenant, passed=True, message=f"security defaults {what}")
    matching = [p for p in ca.policies if rule(p)]
    names = [p.name for p in matching if not _exclusions(p, ca)]
    if names:
        return Finding(resource=ca.tenant, passed=True, message=f"{what} by: {', '.join(names)}")
    excluded = [f"{p.name!r} excludes {'; '.join(_exclusions(p, ca))}" for p in matching]
    if excluded:
        return Finding(
            resource=ca.tenant,
            passed=False,
            message=f"not {what} for everyone: {' / '.join(excluded)} "
            "(beyond the configured break-glass accounts)",
        )
    return Finding(
        resource=ca.tenant,
        passed=False,
        message=f"{'security defaults off and ' if defaults else ''}no enabled all-users "
        f"policy: not {what}",
    )


@check(
    id="entra.conditional_access.mfa_all_users",
    title="MFA is required for all users (Conditional Access or security defaults)",
    severity="critical",
    version=2,
    remediation="Create an enabled Conditional Access policy for All users and All cloud apps "
    "granting access only with MFA (exclude only the emergency-access accounts listed in "
    "azure.entra.break_glass_accounts), or turn on security defaults.",
)
def mfa_all_users(ca: ConditionalAccess) -> Iterator[Finding]:
    yield _verdict(ca, _requires_mfa, "MFA required")


@check(
    id="entra.conditional_access.legacy_auth_blocked",
    title="Legacy authentication is blocked",
    severity="high",
    version=2,
    remediation="Create an enabled Conditional Access policy for All users and All cloud apps, "
    "client apps 'Exchange ActiveSync' and 'Other clients', granting Block (excluding only "
    "the break-glass accounts); or turn on security defaults.",
)
def legacy_auth_blocked(ca: ConditionalAccess) -> Iterator[Finding]:
    yield _verdict(ca, _blocks_legacy, "legacy authentication blocked")


@check(
    id="entra.conditional_access.managed_device_required",
    title="A compliant or hybrid-joined device is required for all users (Conditional Access)",
    severity="high",
    remediation="Create an enabled Conditional Access policy for All users and All cloud apps "
    "granting access only from a device marked compliant or Microsoft Entra hybrid joined "
    "(exclude only the break-glass accounts in azure.entra.break_glass_accounts); report-only "
    "policies enforce nothing.",
)
def managed_device_required(ca: ConditionalAccess) -> Iterator[Finding]:
    """One finding for the tenant. Security defaults require no device, so they do not count;
    a policy another grant control can satisfy alone (MFA OR compliant device) does not either."""
    yield _verdict(ca, _requires_device, "managed device required", defaults=False)


@check(
    id="entra.conditional_access.terms_of_use_required",
    title="All users must accept the terms of use before using cloud apps (Conditional Access)",
    severity="low",
    remediation="Publish the acceptable use rules as a Microsoft Entra terms of use and grant "
    "access to All cloud apps for All users only once they are accepted (an enabled "
    "Conditional Access policy; exclude only the break-glass accounts).",
)
def terms_of_use_required(ca: ConditionalAccess) -> Iterator[Finding]:
    """One finding for the tenant; security defaults ask for no terms of use."""
    yield _verdict(ca, _requires_terms, "terms of use acceptance required", defaults=False)


def _phishing_resistant(policy: ConditionalAccessPolicy) -> bool:
    """The policy's strength allows only phishing-resistant methods (the built-in one, or a
    custom strength whose every combination is one of them)."""
    combos = set(policy.strength_combinations)
    if combos:
        return combos <= PHISHING_RESISTANT
    return policy.strength_id == PHISHING_RESISTANT_STRENGTH


def _covers_role(policy: ConditionalAccessPolicy, role: str) -> bool:
    clients = set(policy.client_app_types)
    return (
        policy.state == "enabled"
        and ("All" in policy.include_users or role in policy.include_roles)
        and "All" in policy.include_applications
        and not policy.narrowed
        and ("all" in clients or clients >= MODERN_CLIENTS)
        and _phishing_resistant(policy)
    )


@check(
    id="entra.conditional_access.phishing_resistant_admins",
    title="Privileged roles must sign in with phishing-resistant MFA (Conditional Access)",
    severity="high",
    remediation="Create an enabled Conditional Access policy for the privileged directory roles "
    "and All cloud apps granting access with the 'Phishing-resistant MFA' authentication "
    "strength; exclude only the break-glass accounts (azure.entra.break_glass_accounts).",
)
def phishing_resistant_admins(ca: ConditionalAccess) -> Iterator[Finding]:
    """One finding per privileged role: an enabled policy targeting it (or all users) on all
    apps, not narrowed, requires a phishing-resistant strength and excludes no one beyond the
    break-glass accounts. Security defaults do not count: they accept any MFA method."""
    for role, name in ROLE_NAMES.items():
        covering = [p for p in ca.policies if _covers_role(p, role)]
        clean = [p.name for p in covering if not _exclusions(p, ca)]
        if clean:
            yield Finding(
                resource=f"{ca.tenant}/{name}", passed=True, message=f"required by {clean[0]}"
            )
            continue
        if covering:
            excluded = "; ".join(
                f"{p.name!r} excludes {', '.join(_exclusions(p, ca))}" for p in covering
            )
            message = f"phishing-resistant MFA not required for everyone: {excluded}"
        else:
            message = "no enabled policy requires phishing-resistant MFA for this role"
        yield Finding(resource=f"{ca.tenant}/{name}", passed=False, message=message)
