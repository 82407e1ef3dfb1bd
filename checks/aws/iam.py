"""IAM checks: root use and MFA, credential hygiene, password policy, least privilege."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from checks.api import Finding, check
from checks.aws.models import (
    AccessAnalyzers,
    CredentialReportEntry,
    IamCredentialReport,
    IamCustomerPolicies,
    IamPasswordPolicy,
    IamUsers,
    PolicyStatement,
)

#: An active access key older than this fails ``aws.iam.access_keys_rotated``.
MAX_ACCESS_KEY_AGE = timedelta(days=90)
#: Thresholds of ``aws.iam.password_policy_strong`` (CIS AWS Foundations-style baseline).
MIN_PASSWORD_LENGTH = 14
MIN_PASSWORD_REUSE_PREVENTION = 24
MAX_PASSWORD_AGE_DAYS = 90
#: Root used (password or key) more recently than this fails ``aws.iam.root_recently_unused``.
ROOT_QUIET_PERIOD = timedelta(days=30)
#: A password or active key idle (or never used and older) beyond this fails
#: ``aws.iam.unused_credentials_disabled``.
MAX_CREDENTIAL_IDLE = timedelta(days=45)
#: Actions that, allowed on Resource "*", grant full administrative access.
FULL_ADMIN_ACTIONS = frozenset({"*", "*:*"})
#: The AWS-managed AdministratorAccess policy in any partition.
ADMINISTRATOR_ACCESS = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/AdministratorAccess$")
#: Analyzer types that find resources shared outside the account or organization.
EXTERNAL_ACCESS_ANALYZERS = frozenset({"ACCOUNT", "ORGANIZATION"})


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
    for entry in report.all_entries():
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


@check(
    id="aws.iam.root_access_keys_absent",
    title="The root user has no active access keys",
    severity="critical",
    interval="24h",
    remediation="Sign in as root, open Security credentials and delete every root access key; "
    "use IAM roles or users with least privilege for programmatic access.",
)
def root_access_keys_absent(report: IamCredentialReport) -> Iterator[Finding]:
    """The credential report's root row shows no active access key."""
    root = report.root
    active = [key.slot for key in root.access_keys if key.active]
    yield Finding(
        resource=root.arn,
        passed=not active,
        message="the root user has no active access key"
        if not active
        else "the root user has active access key(s) " + ", ".join(map(str, active)),
    )


@check(
    id="aws.iam.root_recently_unused",
    title="The root user was not used in the last 30 days",
    severity="high",
    interval="24h",
    remediation="Keep root for the few tasks that need it; investigate recent root use "
    "(CloudTrail userIdentity.type = Root). Window: ROOT_QUIET_PERIOD (30 days) before the "
    "credential report's generation time, covering the root password and access keys.",
)
def root_recently_unused(report: IamCredentialReport) -> Iterator[Finding]:
    """The latest root password or key use is more than 30 days before the report."""
    root = report.root
    uses = {"password": root.password_last_used}
    uses |= {f"access key {key.slot}": key.last_used for key in root.access_keys}
    known = {what: when for what, when in uses.items() if when is not None}
    if not known:
        yield Finding(resource=root.arn, passed=True, message="no root use on record")
        return
    what, when = max(known.items(), key=lambda item: item[1])
    idle = _since(report.generated_at, when)
    yield Finding(
        resource=root.arn,
        passed=idle > ROOT_QUIET_PERIOD,
        message=f"root {what} last used {when.date().isoformat()}, {idle.days} days ago "
        f"({'outside' if idle > ROOT_QUIET_PERIOD else 'within'} the "
        f"{ROOT_QUIET_PERIOD.days}-day window)",
    )


@check(
    id="aws.iam.unused_credentials_disabled",
    title="IAM passwords and access keys unused for 45 days are disabled",
    severity="medium",
    interval="24h",
    remediation="Remove the login profile of users who no longer sign in and deactivate (then "
    "delete) idle access keys. Limit: MAX_CREDENTIAL_IDLE (45 days) since last use, or since "
    "creation for a credential never used, against the credential report's generation time.",
)
def unused_credentials_disabled(report: IamCredentialReport) -> Iterator[Finding]:
    """One finding per console password (``<user arn>#password``) and active key
    (``#key1``/``#key2``) of IAM users; root has its own checks."""
    for user in report.users:
        if user.password_enabled:
            yield _idle_finding(
                report.generated_at,
                user,
                "password",
                "console password",
                user.password_last_used,
                user.password_last_changed,
            )
        for key in user.access_keys:
            if key.active:
                yield _idle_finding(
                    report.generated_at,
                    user,
                    f"key{key.slot}",
                    f"access key {key.slot}",
                    key.last_used,
                    key.last_rotated,
                )


def _idle_finding(
    now: datetime,
    user: CredentialReportEntry,
    suffix: str,
    label: str,
    last_used: datetime | None,
    issued: datetime | None,
) -> Finding:
    resource = f"{user.arn}#{suffix}"
    if last_used is not None:
        idle, state = _since(now, last_used), f"last used {last_used.date().isoformat()}"
    elif issued is not None:
        idle, state = _since(now, issued), f"never used, set {issued.date().isoformat()}"
    else:  # AWS always dates a live credential; a missing date is unknown, never a pass
        return Finding(
            resource=resource, passed=False, message=f"{label} of {user.user} has no dates"
        )
    limit = MAX_CREDENTIAL_IDLE.days
    return Finding(
        resource=resource,
        passed=idle <= MAX_CREDENTIAL_IDLE,
        message=f"{label} of {user.user} {state}, {idle.days} days ago "
        f"({'within' if idle <= MAX_CREDENTIAL_IDLE else 'over'} the {limit}-day limit)",
    )


def _since(now: datetime, then: datetime) -> timedelta:
    return max(now - then, timedelta(0))


@check(
    id="aws.iam.no_admin_policy_on_users",
    title="No IAM user has full administrator rights attached directly",
    severity="high",
    interval="24h",
    remediation="Detach AdministratorAccess (or any policy allowing * on *) from the user and "
    "grant administration through a role assumed with MFA, or a group that is reviewed.",
)
def no_admin_policy_on_users(users: IamUsers, policies: IamCustomerPolicies) -> Iterator[Finding]:
    """Attached managed (AdministratorAccess or a full-admin customer policy) and inline
    policies of each user; permissions through groups and roles are out of scope."""
    full_admin = {p.arn for p in policies.policies if grants_full_admin(p.statements)}
    for user in users.users:
        admin = [
            p.name
            for p in user.attached_policies
            if ADMINISTRATOR_ACCESS.match(p.arn) or p.arn in full_admin
        ]
        admin += [
            f"{p.name} (inline)" for p in user.inline_policies if grants_full_admin(p.statements)
        ]
        yield Finding(
            resource=user.arn,
            passed=not admin,
            message=f"{user.name} has full admin attached directly: " + ", ".join(admin)
            if admin
            else f"{user.name} has no full-admin policy attached directly",
        )


@check(
    id="aws.iam.users_permissions_via_groups",
    title="IAM users get permissions only through groups",
    severity="low",
    interval="24h",
    remediation="Move the user's managed and inline policies to a group (or a role) that "
    "matches the job, add the user to it, then detach and delete the user's own policies.",
)
def users_permissions_via_groups(users: IamUsers) -> Iterator[Finding]:
    """A user fails with any directly attached managed policy or any inline policy."""
    for user in users.users:
        direct = [p.name for p in user.attached_policies]
        direct += [f"{p.name} (inline)" for p in user.inline_policies]
        yield Finding(
            resource=user.arn,
            passed=not direct,
            message=f"{user.name} has policies attached directly: " + ", ".join(direct)
            if direct
            else f"{user.name} has no policies attached directly",
        )


@check(
    id="aws.iam.no_full_admin_customer_policies",
    title="No customer-managed policy allows every action on every resource",
    severity="high",
    interval="24h",
    remediation="Replace the Allow of Action * on Resource * in the policy's default version "
    "with the actions and resources the job needs; use AdministratorAccess on a dedicated, "
    "MFA-protected role where full administration is truly required.",
)
def no_full_admin_customer_policies(policies: IamCustomerPolicies) -> Iterator[Finding]:
    """One finding per customer-managed policy, judged on its default version."""
    for policy in policies.policies:
        admin = grants_full_admin(policy.statements)
        where = f"{policy.name} ({policy.default_version}, {policy.attachment_count} attachments)"
        yield Finding(
            resource=policy.arn,
            passed=not admin,
            message=f"{where} allows * on *" if admin else f"{where} does not allow * on *",
        )


def grants_full_admin(statements: Iterable[PolicyStatement]) -> bool:
    """Some statement allows ``*`` (or ``*:*``) on Resource ``*``; conditions are ignored."""
    return any(
        s.effect == "Allow" and FULL_ADMIN_ACTIONS.intersection(s.actions) and "*" in s.resources
        for s in statements
    )


@check(
    id="aws.iam.access_analyzer_enabled",
    title="IAM Access Analyzer watches for external access in every region",
    severity="medium",
    interval="24h",
    remediation="Create an analyzer of type ACCOUNT (or ORGANIZATION, from the delegated "
    "administrator) in every region you use: aws accessanalyzer create-analyzer. The resource "
    "is arn:aws:access-analyzer:<region>:<account>:analyzer.",
)
def access_analyzer_enabled(snapshot: AccessAnalyzers) -> Iterator[Finding]:
    """One finding per region: an ACTIVE analyzer of type ACCOUNT or ORGANIZATION exists."""
    good = [
        a.name
        for a in snapshot.analyzers
        if a.status == "ACTIVE" and a.type in EXTERNAL_ACCESS_ANALYZERS
    ]
    if good:
        message = f"active external-access analyzer in {snapshot.region}: " + ", ".join(good)
    elif snapshot.analyzers:
        message = f"no active external-access analyzer in {snapshot.region}; found: " + ", ".join(
            f"{a.name} ({a.type}, {a.status})" for a in snapshot.analyzers
        )
    else:
        message = f"no Access Analyzer analyzer in {snapshot.region}"
    yield Finding(resource=snapshot.arn, passed=bool(good), message=message)
