"""IAM checks: root and console MFA, access-key rotation, password policy strength."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from checks.api import Finding, check
from checks.aws.models import IamCredentialReport, IamPasswordPolicy

#: An active access key older than this fails ``aws.iam.access_keys_rotated``.
MAX_ACCESS_KEY_AGE = timedelta(days=90)
#: Thresholds of ``aws.iam.password_policy_strong`` (CIS AWS Foundations-style baseline).
MIN_PASSWORD_LENGTH = 14
MIN_PASSWORD_REUSE_PREVENTION = 24
MAX_PASSWORD_AGE_DAYS = 90


@check(
    id="aws.iam.root_mfa_enabled",
    title="The root user has MFA enabled",
    severity="critical",
    interval="24h",
    remediation="Sign in as root and assign an MFA device (a hardware key for production "
    "accounts) under Security credentials.",
)
def root_mfa_enabled(report: IamCredentialReport) -> Iterator[Finding]:
    """The credential report's ``<root_account>`` row must show ``mfa_active``."""
    root = report.root
    yield Finding(
        resource=root.arn,
        passed=root.mfa_active,
        message="MFA enabled for the root user"
        if root.mfa_active
        else "MFA not enabled for the root user",
    )


@check(
    id="aws.iam.console_users_mfa",
    title="IAM users with a console password have MFA enabled",
    severity="high",
    interval="24h",
    remediation="Assign an MFA device to each console user, or remove the login profile of "
    "users that do not need the console; prefer IAM Identity Center for people.",
)
def console_users_mfa(report: IamCredentialReport) -> Iterator[Finding]:
    """Every IAM user with ``password_enabled`` must have ``mfa_active`` (root: own check)."""
    for user in report.users:
        if not user.password_enabled:
            continue
        yield Finding(
            resource=user.arn,
            passed=user.mfa_active,
            message=f"MFA enabled for console user {user.user}"
            if user.mfa_active
            else f"MFA not enabled for console user {user.user}",
        )


@check(
    id="aws.iam.access_keys_rotated",
    title="Active IAM access keys were rotated within 90 days",
    severity="medium",
    interval="24h",
    remediation="Create a new key, switch its consumers, then deactivate and delete the old "
    "one; better, replace long-lived keys with roles. Limit: MAX_ACCESS_KEY_AGE (90 days), "
    "measured against the credential report's generation time.",
)
def access_keys_rotated(report: IamCredentialReport) -> Iterator[Finding]:
    """One finding per active key (resource ``<user arn>#key1``/``#key2``)."""
    limit = MAX_ACCESS_KEY_AGE.days
    for entry in report.entries:
        for key in entry.access_keys:
            if not key.active:
                continue
            resource = f"{entry.arn}#key{key.slot}"
            label = f"access key {key.slot} of {entry.user}"
            if key.last_rotated is None:
                yield Finding(
                    resource=resource,
                    passed=False,
                    message=f"{label} is active but has no rotation date",
                )
                continue
            age = max(report.generated_at - key.last_rotated, timedelta(0))
            rotated = key.last_rotated.date().isoformat()
            yield Finding(
                resource=resource,
                passed=age <= MAX_ACCESS_KEY_AGE,
                message=f"{label} last rotated {rotated}, {age.days} days ago "
                f"({'within' if age <= MAX_ACCESS_KEY_AGE else 'over'} the {limit}-day limit)",
            )


@check(
    id="aws.iam.password_policy_strong",
    title="The IAM account password policy is strong",
    severity="medium",
    interval="24h",
    remediation=f"Set the account password policy: minimum length >= {MIN_PASSWORD_LENGTH}; "
    "require symbols, numbers, upper- and lower-case letters; prevent reuse of the last "
    f">= {MIN_PASSWORD_REUSE_PREVENTION} passwords; maximum age <= {MAX_PASSWORD_AGE_DAYS} "
    "days. The resource is the account, arn:aws:iam::<account>:root.",
)
def password_policy_strong(policy: IamPasswordPolicy) -> Iterator[Finding]:
    """The account policy exists and meets every threshold above (module constants)."""
    settings = policy.policy
    if settings is None:
        yield Finding(
            resource=policy.account_arn, passed=False, message="no account password policy is set"
        )
        return
    gaps = []
    if settings.minimum_password_length < MIN_PASSWORD_LENGTH:
        gaps.append(f"minimum length {settings.minimum_password_length} < {MIN_PASSWORD_LENGTH}")
    for required, what in (
        (settings.require_symbols, "symbols"),
        (settings.require_numbers, "numbers"),
        (settings.require_uppercase_characters, "upper-case letters"),
        (settings.require_lowercase_characters, "lower-case letters"),
    ):
        if not required:
            gaps.append(f"{what} not required")
    reuse = settings.password_reuse_prevention or 0
    if reuse < MIN_PASSWORD_REUSE_PREVENTION:
        gaps.append(f"reuse prevention {reuse} < {MIN_PASSWORD_REUSE_PREVENTION}")
    age = settings.max_password_age
    if age is None:
        gaps.append(f"passwords never expire (limit {MAX_PASSWORD_AGE_DAYS} days)")
    elif age > MAX_PASSWORD_AGE_DAYS:
        gaps.append(f"maximum password age {age} days > {MAX_PASSWORD_AGE_DAYS}")
    yield Finding(
        resource=policy.account_arn,
        passed=not gaps,
        message="password policy too weak: " + "; ".join(gaps)
        if gaps
        else "password policy meets every threshold",
    )
