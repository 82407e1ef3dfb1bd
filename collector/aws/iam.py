"""IAM collectors: credential report, password policy, users' own policies, customer-managed
policies and Access Analyzer analyzers."""

from __future__ import annotations

import json
import time
from datetime import UTC
from typing import Any
from urllib.parse import unquote

from checks.aws.models import (
    AccessAnalyzers,
    Analyzer,
    AttachedPolicy,
    CustomerPolicy,
    IamCredentialReport,
    IamCustomerPolicies,
    IamPasswordPolicy,
    IamUser,
    IamUsers,
    InlinePolicy,
    PasswordPolicy,
    PolicyStatement,
)
from collector.aws.credential_report import parse_report
from collector.aws.paging import each, pages
from collector.aws.scope import AwsScope
from collector.collect import collects

#: Waits between GenerateCredentialReport polls (seconds); about a minute in all.
REPORT_POLL_DELAYS: tuple[float, ...] = (0.2, 0.5, 1, 2, 3, 5, 8, 10, 10, 10, 10)


@collects(
    IamCredentialReport,
    permissions=["iam:GenerateCredentialReport", "iam:GetCredentialReport"],
)
def credential_report(scope: AwsScope) -> IamCredentialReport:
    """Generate (or reuse AWS's < 4 h old) credential report and parse it."""
    iam = scope.client("iam")
    state = iam.generate_credential_report()["State"]
    for delay in REPORT_POLL_DELAYS:
        if state == "COMPLETE":
            break
        time.sleep(delay)
        state = iam.generate_credential_report()["State"]
    if state != "COMPLETE":
        waited = sum(REPORT_POLL_DELAYS)
        raise TimeoutError(f"IAM credential report still {state} after {waited:.0f}s")
    response = iam.get_credential_report()
    if response.get("ReportFormat", "text/csv") != "text/csv":
        raise ValueError(f"unexpected credential report format {response['ReportFormat']!r}")
    entries, malformed = parse_report(response["Content"].decode("utf-8"))
    return IamCredentialReport(
        generated_at=response["GeneratedTime"].astimezone(UTC),
        entries=tuple(entries),
        malformed=tuple(malformed),
    )


@collects(IamPasswordPolicy, permissions=["iam:GetAccountPasswordPolicy"])
def password_policy(scope: AwsScope) -> IamPasswordPolicy:
    """The account password policy; AWS's NoSuchEntity means none is set (a fact)."""
    from botocore.exceptions import ClientError

    account_arn = f"arn:aws:iam::{scope.account_id}:root"
    try:
        policy = scope.client("iam").get_account_password_policy()["PasswordPolicy"]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
            return IamPasswordPolicy(account_arn=account_arn, policy=None)
        raise
    return IamPasswordPolicy(
        account_arn=account_arn,
        policy=PasswordPolicy(
            # an absent setting is AWS's weakest default, never assumed strong
            minimum_password_length=policy.get("MinimumPasswordLength", 0),
            require_symbols=policy.get("RequireSymbols", False),
            require_numbers=policy.get("RequireNumbers", False),
            require_uppercase_characters=policy.get("RequireUppercaseCharacters", False),
            require_lowercase_characters=policy.get("RequireLowercaseCharacters", False),
            password_reuse_prevention=policy.get("PasswordReusePrevention"),
            # AWS: 0 (or no value) means passwords never expire
            max_password_age=policy.get("MaxPasswordAge") or None,
        ),
    )


@collects(
    IamUsers,
    permissions=[
        "iam:ListUsers",
        "iam:ListAttachedUserPolicies",
        "iam:ListUserPolicies",
        "iam:GetUserPolicy",
    ],
    fan_out=True,
)
def iam_users(scope: AwsScope) -> IamUsers:
    """Every user with its directly attached managed policies and inline policy statements."""
    iam = scope.client("iam")
    users = each(lambda listed: _user(iam, listed), pages(iam, "list_users", "Users"))
    return IamUsers(users=tuple(sorted(users, key=lambda u: u.arn)))


def _user(iam: Any, listed: dict[str, Any]) -> IamUser:
    """One user's directly attached managed policies and inline policy statements."""
    name = listed["UserName"]
    attached = tuple(
        AttachedPolicy(name=p["PolicyName"], arn=p["PolicyArn"])
        for p in pages(iam, "list_attached_user_policies", "AttachedPolicies", UserName=name)
    )
    inline = tuple(
        InlinePolicy(
            name=policy,
            statements=statements(
                iam.get_user_policy(UserName=name, PolicyName=policy)["PolicyDocument"]
            ),
        )
        for policy in pages(iam, "list_user_policies", "PolicyNames", UserName=name)
    )
    return IamUser(name=name, arn=listed["Arn"], attached_policies=attached, inline_policies=inline)


@collects(
    IamCustomerPolicies, permissions=["iam:ListPolicies", "iam:GetPolicyVersion"], fan_out=True
)
def customer_policies(scope: AwsScope) -> IamCustomerPolicies:
    """Every customer-managed policy (attached or not) with its default version's statements."""
    iam = scope.client("iam")
    policies = []
    for listed in pages(iam, "list_policies", "Policies", Scope="Local", OnlyAttached=False):
        version = listed["DefaultVersionId"]
        document = iam.get_policy_version(PolicyArn=listed["Arn"], VersionId=version)
        policies.append(
            CustomerPolicy(
                name=listed["PolicyName"],
                arn=listed["Arn"],
                default_version=version,
                attachment_count=int(listed.get("AttachmentCount", 0)),
                statements=statements(document["PolicyVersion"]["Document"]),
            )
        )
    return IamCustomerPolicies(policies=tuple(sorted(policies, key=lambda p: p.arn)))


@collects(AccessAnalyzers, permissions=["access-analyzer:ListAnalyzers"], scope="region")
def access_analyzers(scope: AwsScope) -> AccessAnalyzers:
    """The analyzers of the scope's region, of every type."""
    client = scope.client("accessanalyzer")
    analyzers = tuple(
        Analyzer(name=a["name"], arn=a["arn"], type=a["type"], status=a["status"])
        for a in pages(client, "list_analyzers", "analyzers")
    )
    return AccessAnalyzers(
        region=scope.region,
        arn=scope.arn("access-analyzer", "analyzer", region=scope.region),
        analyzers=analyzers,
    )


def statements(document: dict[str, Any] | str) -> tuple[PolicyStatement, ...]:
    """The statements of a policy document (IAM's URL-encoded JSON text, or parsed)."""
    if isinstance(document, str):
        document = json.loads(unquote(document))
    listed = document.get("Statement", [])
    if isinstance(listed, dict):
        listed = [listed]
    return tuple(
        PolicyStatement(
            effect=statement["Effect"],
            actions=_strings(statement.get("Action")),
            resources=_strings(statement.get("Resource")),
        )
        for statement in listed
    )


def _strings(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
