"""IAM collectors: the credential report and the account password policy."""

from __future__ import annotations

import time
from datetime import UTC

from botocore.exceptions import ClientError

from checks.aws.models import IamCredentialReport, IamPasswordPolicy, PasswordPolicy
from collector.aws.credential_report import parse_report
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
    return IamCredentialReport(
        generated_at=response["GeneratedTime"].astimezone(UTC),
        entries=tuple(parse_report(response["Content"].decode("utf-8"))),
    )


@collects(IamPasswordPolicy, permissions=["iam:GetAccountPasswordPolicy"])
def password_policy(scope: AwsScope) -> IamPasswordPolicy:
    """The account password policy; AWS's NoSuchEntity means none is set (a fact)."""
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
