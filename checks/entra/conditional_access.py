"""Conditional Access checks: MFA for all users, legacy authentication blocked.

A policy counts only when it is enabled (not report-only), covers all users and all cloud
apps, and has no condition that narrows it (locations, platforms, risk levels, device
filter). Excluding a few emergency-access accounts is allowed and recommended. Security
defaults, when on, require MFA and block legacy authentication for everyone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from checks.api import Finding, check
from checks.entra.models import ConditionalAccess, ConditionalAccessPolicy

LEGACY_CLIENTS = frozenset({"exchangeActiveSync", "other"})
MODERN_CLIENTS = frozenset({"browser", "mobileAppsAndDesktopClients"})


def _everyone_everywhere(policy: ConditionalAccessPolicy) -> bool:
    return (
        policy.state == "enabled"
        and "All" in policy.include_users
        and "All" in policy.include_applications
        and not policy.narrowed
    )


def _requires_mfa(policy: ConditionalAccessPolicy) -> bool:
    controls = set(policy.built_in_controls)
    mfa_alone = "mfa" in controls and (len(controls) == 1 or policy.grant_operator == "AND")
    clients = set(policy.client_app_types)
    all_clients = "all" in clients or clients >= MODERN_CLIENTS
    return (
        _everyone_everywhere(policy)
        and all_clients
        and (mfa_alone or policy.authentication_strength)
    )


def _blocks_legacy(policy: ConditionalAccessPolicy) -> bool:
    return (
        _everyone_everywhere(policy)
        and set(policy.client_app_types) >= LEGACY_CLIENTS
        and "block" in policy.built_in_controls
    )


def _verdict(
    ca: ConditionalAccess, rule: Callable[[ConditionalAccessPolicy], bool], what: str
) -> Finding:
    names = [p.name for p in ca.policies if rule(p)]
    if ca.security_defaults_enabled:
        return Finding(resource=ca.tenant, passed=True, message=f"security defaults {what}")
    if names:
        return Finding(resource=ca.tenant, passed=True, message=f"{what} by: {', '.join(names)}")
    return Finding(
        resource=ca.tenant,
        passed=False,
        message=f"security defaults off and no enabled all-users policy: not {what}",
    )


@check(
    id="entra.conditional_access.mfa_all_users",
    title="MFA is required for all users (Conditional Access or security defaults)",
    severity="critical",
    remediation="Create an enabled Conditional Access policy for All users and All cloud apps "
    "granting access only with MFA (exclude only emergency-access accounts), or turn on "
    "security defaults.",
)
def mfa_all_users(ca: ConditionalAccess) -> Iterator[Finding]:
    yield _verdict(ca, _requires_mfa, "MFA required")


@check(
    id="entra.conditional_access.legacy_auth_blocked",
    title="Legacy authentication is blocked",
    severity="high",
    remediation="Create an enabled Conditional Access policy for All users and All cloud apps, "
    "client apps 'Exchange ActiveSync' and 'Other clients', granting Block; or turn on "
    "security defaults.",
)
def legacy_auth_blocked(ca: ConditionalAccess) -> Iterator[Finding]:
    yield _verdict(ca, _blocks_legacy, "legacy authentication blocked")
