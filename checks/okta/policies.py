"""Okta policy checks: password strength and MFA required at every sign-in.

How ``okta.policies.mfa_required`` judges. A policy "requires MFA" when its ACTIVE rules, read
in priority order, never allow access with a single factor before the catch-all (a rule with
no people, network, device, platform, risk or expression condition) requires a second factor
(sign-on ``requireFactor``; authentication policy ``factorMode`` 2FA) or denies; the catch-all
itself is judged like any rule. Then:

- every ACTIVE global session policy (``OKTA_SIGN_ON``, whatever group it is assigned to)
  requires MFA: every session needs a second factor, one passing finding for the org;
- else, with Okta Identity Engine authentication policies (``ACCESS_POLICY``): one finding per
  policy that has apps mapped to it, passing only if that policy requires MFA, so an app left on
  a one-factor policy fails and is named; the global session policies that allow one factor are
  named in each message;
- else (Classic, or no policy mapped to any app): one failing finding naming why.
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
    title="Okta policies require MFA at every sign-in: all global session policies, or the "
    "authentication policy of every app",
    severity="critical",
    version=2,
    remediation="Make every global session policy's rules (the catch-all included) require "
    "multifactor authentication, or give every app an authentication policy whose rules all "
    "require 2FA.",
)
def mfa_required(policies: OktaMfaPolicies) -> Iterator[Finding]:
    """One finding for the org when session policies decide; else one per authentication
    policy with apps mapped to it."""
    sign_on = [p for p in policies.policies if p.type == "OKTA_SIGN_ON"]
    session_gaps = [f"{p.name}: {gap}" for p in sign_on if (gap := requires_mfa(p))]
    if sign_on and not session_gaps:
        names = ", ".join(repr(p.name) for p in sign_on)
        yield Finding(
            resource=policies.org,
            passed=True,
            message=f"every global session policy requires MFA ({names})",
        )
        return
    mapped = [p for p in policies.policies if p.type == "ACCESS_POLICY" and p.apps]
    sessions = f"; global session: {'; '.join(session_gaps)}" if session_gaps else ""
    for policy in mapped:
        gap = requires_mfa(policy)
        apps = f"{len(policy.apps)} app{'s' * (len(policy.apps) != 1)}: {', '.join(policy.apps)}"
        yield Finding(
            resource=policy.name,
            passed=gap is None,
            message=(
                f"authentication policy requires MFA for {apps}"
                if gap is None
                else f"{gap}, for {apps}{sessions}"
            ),
        )
    if not mapped:
        yield Finding(
            resource=policies.org,
            passed=False,
            message="no policy requires MFA at every sign-in"
            + (f" ({'; '.join(session_gaps)})" if session_gaps else ""),
        )
