"""Okta policy checks: password strength and a policy that requires MFA for every user.

What ``okta.policies.mfa_required`` accepts: an ACTIVE global session policy
(``OKTA_SIGN_ON``) that applies to everyone (the default policy, or one assigned to the
Everyone group), or an ACTIVE authentication policy (``ACCESS_POLICY``, for the apps assigned
to it), whose ACTIVE rules, read in priority order, never allow access without a second factor
before reaching a rule that applies to everyone everywhere (no people, network, device,
platform, risk or expression conditions) and requires a second factor (sign-on
``requireFactor``; authentication policy ``factorMode`` 2FA) or denies access. A narrowed rule
allowing a single factor (e.g. "on the office network") fails it: MFA for all users, anywhere.
Policies are judged one by one: a higher-priority global session policy assigned to a group
that lets its members in with one factor is not detected (review group policies in Okta).
"""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.okta.models import (
    OktaMfaPolicies,
    OktaMfaPolicy,
    OktaPasswordPolicies,
    OktaPasswordPolicy,
)

#: Character classes a "complex" password policy requires at least this many of, unless it
#: rejects common passwords (Okta's dictionary check), which NIST SP 800-63B prefers.
MIN_CLASSES = 3


def _password_gaps(policy: OktaPasswordPolicy, policies: OktaPasswordPolicies) -> list[str]:
    gaps = []
    if policy.min_length < policies.min_length:
        gaps.append(f"minimum length {policy.min_length} < {policies.min_length}")
    if len(policy.classes_required) < MIN_CLASSES and not policy.common_passwords_excluded:
        gaps.append(
            f"{len(policy.classes_required)} character classes required and common passwords "
            f"allowed (need {MIN_CLASSES} classes or the common-password check)"
        )
    if policy.history_count < policies.history_count:
        gaps.append(f"history {policy.history_count} < {policies.history_count}")
    return gaps


@check(
    id="okta.policies.password_strength",
    title="Okta password policies require long, complex passwords and remember 24 of them",
    severity="medium",
    remediation="Edit each password policy: minimum length 14 (okta.password_min_length), "
    "'Restrict use of common passwords' or three character classes, and 'Enforce password "
    "history for last 24 passwords' (okta.password_history).",
)
def password_strength(policies: OktaPasswordPolicies) -> Iterator[Finding]:
    """One finding per ACTIVE password policy (the default one included)."""
    for policy in policies.policies:
        gaps = _password_gaps(policy, policies)
        yield Finding(
            resource=policy.name,
            passed=not gaps,
            message="; ".join(gaps)
            or f"length >= {policy.min_length}, history {policy.history_count}, complexity met",
        )


def requires_mfa(policy: OktaMfaPolicy) -> str | None:
    """``None`` when the policy requires MFA for everyone it covers, else why not."""
    for rule in policy.rules:
        if rule.allows and not rule.requires_mfa:
            where = f" ({', '.join(rule.narrowed)})" if rule.narrowed else ""
            return f"rule {rule.name!r} allows a single factor{where}"
        if not rule.narrowed:
            return None  # the catch-all rule: MFA or deny for everyone left
    return "no rule requires MFA for everyone"


@check(
    id="okta.policies.mfa_required",
    title="An active Okta sign-on or authentication policy requires MFA for all users",
    severity="critical",
    remediation="Make the global session policy for Everyone (or its default rule) require "
    "multifactor authentication, or an authentication policy require 2FA for every user.",
)
def mfa_required(policies: OktaMfaPolicies) -> Iterator[Finding]:
    """One finding for the org, naming the policy that requires MFA or why none does."""
    reasons = []
    for policy in policies.policies:
        if policy.type == "OKTA_SIGN_ON" and not policy.everyone:
            continue
        problem = requires_mfa(policy)
        if problem is None:
            kind = (
                "global session policy"
                if policy.type == "OKTA_SIGN_ON"
                else "authentication policy"
            )
            yield Finding(
                resource=policies.org,
                passed=True,
                message=f"{kind} {policy.name!r} requires MFA for all users",
            )
            return
        reasons.append(f"{policy.name}: {problem}")
    yield Finding(
        resource=policies.org,
        passed=False,
        message="no active policy requires MFA for all users"
        + (f" ({'; '.join(reasons)})" if reasons else ""),
    )
