"""IAM actions: the least-privilege policy for the selected AWS checks, and the action an API
call needs (to name it when AWS denies it, and to prove collectors declare what they call)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from collector.settings import AwsSettings, Settings

#: What resolving an account calls in the audited account, beside the checks' own permissions.
#: (``sts:GetCallerIdentity`` needs no grant; it is listed so the policy reads complete.)
ACCOUNT_PERMISSIONS = ("sts:GetCallerIdentity",)
ALL_REGIONS_PERMISSIONS = ("ec2:DescribeRegions",)
#: What the base identity (the management account, for an organization) calls to reach others.
ORGANIZATION_PERMISSIONS = ("organizations:ListAccounts",)
ASSUME_ROLE = "sts:AssumeRole"

#: IAM prefixes that differ from the botocore service's signing name.
_PREFIXES = {"tagging": "tag", "monitoring": "cloudwatch"}
#: (botocore service, operation) -> IAM action, where the action is not ``prefix:Operation``.
_ACTIONS = {
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",
    ("s3", "HeadBucket"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjectVersions"): "s3:ListBucketVersions",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "GetBucketLifecycle"): "s3:GetLifecycleConfiguration",
    ("s3", "GetBucketLifecycleConfiguration"): "s3:GetLifecycleConfiguration",
    ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",
    ("s3", "GetObjectLockConfiguration"): "s3:GetBucketObjectLockConfiguration",
    ("s3", "GetBucketNotificationConfiguration"): "s3:GetBucketNotification",
    ("s3", "GetBucketCors"): "s3:GetBucketCORS",
    ("s3", "GetBucketAccelerateConfiguration"): "s3:GetAccelerateConfiguration",
    ("s3", "GetBucketAnalyticsConfiguration"): "s3:GetAnalyticsConfiguration",
    ("s3", "GetBucketInventoryConfiguration"): "s3:GetInventoryConfiguration",
    ("s3", "GetBucketMetricsConfiguration"): "s3:GetMetricsConfiguration",
    ("s3", "GetBucketIntelligentTieringConfiguration"): "s3:GetIntelligentTieringConfiguration",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
}


def iam_action(service: str, operation: str, *, signing_name: str | None = None) -> str:
    """The IAM action a call needs: ``iam_action("s3", "ListBuckets") == "s3:ListAllMyBuckets"``.

    ``service`` is botocore's service name; ``signing_name`` (the service model's, default
    ``service``) gives the IAM prefix for services whose names differ (``elbv2`` signs as
    ``elasticloadbalancing``, ``accessanalyzer`` as ``access-analyzer``).
    """
    if (service, operation) in _ACTIONS:
        return _ACTIONS[(service, operation)]
    prefix = signing_name or service
    return f"{_PREFIXES.get(prefix, prefix)}:{operation}"


def policy_document(actions: Iterable[str], settings: AwsSettings | None = None) -> dict[str, Any]:
    """An IAM policy allowing exactly ``actions`` plus what account resolution calls.

    ``AnnexaReadOnly`` is for the identity that audits each account (the role assumed in a
    member account, or the configured profile). ``AnnexaListAccounts`` and ``AnnexaAssumeRoles``
    appear only when ``settings`` use an organization or role ARNs: they belong to the base
    identity (the management account's), which lists the accounts and assumes the roles.
    """
    settings = settings or AwsSettings()
    allowed = set(actions) | set(ACCOUNT_PERMISSIONS)
    if settings.regions in (None, "all"):
        allowed |= set(ALL_REGIONS_PERMISSIONS)
    statements: list[dict[str, Any]] = [
        {"Sid": "AnnexaReadOnly", "Effect": "Allow", "Action": sorted(allowed), "Resource": "*"}
    ]
    roles = sorted({a.role_arn for a in settings.accounts if a.role_arn})
    org = settings.organization
    if org is not None:
        statements.append(
            {
                "Sid": "AnnexaListAccounts",
                "Effect": "Allow",
                "Action": list(ORGANIZATION_PERMISSIONS),
                "Resource": "*",
            }
        )
        roles.append(f"arn:aws:iam::*:role/{org.role_name}")
    if roles:
        statements.append(
            {
                "Sid": "AnnexaAssumeRoles",
                "Effect": "Allow",
                "Action": [ASSUME_ROLE],
                "Resource": roles,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def render(actions: Iterable[str], settings: Settings | None = None) -> dict[str, Any]:
    """The provider hook (see ``collector.providers``): :func:`policy_document` for the
    ``aws:`` section of ``settings``."""
    return policy_document(actions, settings.aws if settings else None)
