"""Typed AWS snapshots: only the facts the built-in AWS checks judge, never secrets."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import AwareDatetime

from checks.api import Snapshot, SnapshotPart

__all__ = [
    "AccessAnalyzers",
    "AccessKey",
    "Analyzer",
    "AttachedPolicy",
    "CloudTrailAlarms",
    "CloudTrailTrails",
    "ConfigRecorder",
    "ConfigRecorders",
    "CredentialReportEntry",
    "CustomerPolicy",
    "EbsEncryptionByDefault",
    "FlowLog",
    "GuardDutyDetector",
    "GuardDutyDetectors",
    "IamCredentialReport",
    "IamCustomerPolicies",
    "IamPasswordPolicy",
    "IamUser",
    "IamUsers",
    "IdentityCenterAssignment",
    "IdentityCenterUser",
    "IdentityCenterUsers",
    "InlinePolicy",
    "MetricAlarm",
    "MetricFilter",
    "PasswordPolicy",
    "PolicyStatement",
    "PublicAccessBlock",
    "S3Bucket",
    "S3Buckets",
    "SecurityHubState",
    "SecurityStandard",
    "Trail",
    "TrailLogGroup",
    "Vpc",
    "VpcFlowLogs",
]


class _AwsSnapshot(Snapshot):
    provider: ClassVar[str] = "aws"


# --- IAM -----------------------------------------------------------------------------------


class AccessKey(SnapshotPart):
    """One access-key slot of a credential-report row (no key id: the report has none)."""

    slot: int  # 1 or 2, as in the report's access_key_N_* columns
    active: bool
    last_rotated: AwareDatetime | None
    last_used: AwareDatetime | None = None  # None: never used (the report's N/A)


class CredentialReportEntry(SnapshotPart):
    """One row of the IAM credential report; ``is_root`` for the ``<root_account>`` row."""

    user: str
    arn: str
    is_root: bool = False
    password_enabled: bool  # console password; False for root (AWS reports not_supported)
    mfa_active: bool
    access_keys: tuple[AccessKey, ...] = ()
    # None: never used / no information (root: whether the root password was ever used)
    password_last_used: AwareDatetime | None = None
    password_last_changed: AwareDatetime | None = None  # None for root and password-less users


class MalformedReportRow(SnapshotPart):
    """A credential report row that could not be read: no check may guess what it said."""

    user: str
    problem: str


class IamCredentialReport(_AwsSnapshot):
    """The account's credential report; ``generated_at`` is "now" for age judgements.

    A missing or unreadable row errors only the checks that need it: :attr:`root` raises
    unless there is exactly one readable ``<root_account>`` row (AWS always reports root),
    :attr:`users` raises when an IAM user's row is unreadable, :attr:`all_entries` on either.
    """

    resource_noun: ClassVar[str] = "users"

    generated_at: AwareDatetime
    entries: tuple[CredentialReportEntry, ...]  # the readable rows
    malformed: tuple[MalformedReportRow, ...] = ()

    @property
    def root(self) -> CredentialReportEntry:
        broken = [m.problem for m in self.malformed if m.user == "<root_account>"]
        if broken:
            raise ValueError(f"credential report: <root_account> row unreadable: {broken[0]}")
        roots = [e for e in self.entries if e.is_root]
        if len(roots) != 1:
            raise ValueError(
                f"credential report must have one <root_account> row, has {len(roots)}"
            )
        return roots[0]

    @property
    def users(self) -> tuple[CredentialReportEntry, ...]:
        broken = [m for m in self.malformed if m.user != "<root_account>"]
        if broken:
            rows = "; ".join(f"{m.user}: {m.problem}" for m in broken)
            raise ValueError(f"credential report: {len(broken)} user row(s) unreadable: {rows}")
        return tuple(e for e in self.entries if not e.is_root)

    def all_entries(self) -> tuple[CredentialReportEntry, ...]:
        """Root and every IAM user; raises like :attr:`root` and :attr:`users`."""
        return (self.root, *self.users)


class PasswordPolicy(SnapshotPart):
    """The IAM account password policy settings that a verdict needs."""

    minimum_password_length: int
    require_symbols: bool
    require_numbers: bool
    require_uppercase_characters: bool
    require_lowercase_characters: bool
    password_reuse_prevention: int | None = None  # None: reuse not restricted
    max_password_age: int | None = None  # days; None: passwords never expire


class IamPasswordPolicy(_AwsSnapshot):
    """The account password policy, or ``policy=None`` when AWS says none is set."""

    resource_noun: ClassVar[str] = "accounts"

    account_arn: str
    policy: PasswordPolicy | None


# --- S3 --------------------------------------------------------------------------------------


class PublicAccessBlock(SnapshotPart):
    """The four S3 Block Public Access settings."""

    block_public_acls: bool
    ignore_public_acls: bool
    block_public_policy: bool
    restrict_public_buckets: bool

    @property
    def blocks_all(self) -> bool:
        return all(self.model_dump().values())

    def merged(self, other: PublicAccessBlock | None) -> PublicAccessBlock:
        """The effective block when ``other`` also applies (a setting on either side is on)."""
        if other is None:
            return self
        mine, theirs = self.model_dump(), other.model_dump()
        return PublicAccessBlock(**{k: mine[k] or theirs[k] for k in mine})

    def missing(self) -> list[str]:
        """Names of the settings that are off (AWS's PascalCase names)."""
        return [_PAB_NAMES[k] for k, on in self.model_dump().items() if not on]


_PAB_NAMES = {
    "block_public_acls": "BlockPublicAcls",
    "ignore_public_acls": "IgnorePublicAcls",
    "block_public_policy": "BlockPublicPolicy",
    "restrict_public_buckets": "RestrictPublicBuckets",
}
NO_PUBLIC_ACCESS_BLOCK = PublicAccessBlock(
    block_public_acls=False,
    ignore_public_acls=False,
    block_public_policy=False,
    restrict_public_buckets=False,
)


class S3Bucket(SnapshotPart):
    """One bucket's settings; ``None`` where S3 answers "not configured"."""

    name: str
    arn: str
    public_access_block: PublicAccessBlock | None
    default_encryption: str | None  # SSEAlgorithm: AES256, aws:kms, aws:kms:dsse
    policy: dict[str, Any] | None  # the bucket policy document, parsed
    versioning: str | None  # "Enabled" or "Suspended"; None: never enabled
    access_log_target: str | None  # server access logging target bucket
    expiry_rules: tuple[str, ...] = ()  # enabled lifecycle rules that expire objects/versions


#: The settings an S3 snapshot can read, each with its own call (per bucket, or per account).
S3_SETTINGS = (
    "account_block",
    "public_access_block",
    "encryption",
    "policy",
    "versioning",
    "logging",
    "lifecycle",
)


class S3Buckets(_AwsSnapshot):
    """All buckets of the account plus the account-level public access block.

    ``read`` names the settings read for this run (only those its checks judge); a setting
    not read is ``None`` everywhere, which then means "not read", not "not configured".
    """

    resource_noun: ClassVar[str] = "buckets"

    account_id: str
    account_public_access_block: PublicAccessBlock | None
    buckets: tuple[S3Bucket, ...]
    read: tuple[str, ...] = S3_SETTINGS

    def effective_public_access_block(self, bucket: S3Bucket) -> PublicAccessBlock:
        """The bucket's block combined with the account's (either one being on counts)."""
        own = bucket.public_access_block or NO_PUBLIC_ACCESS_BLOCK
        return own.merged(self.account_public_access_block)


# --- CloudTrail ------------------------------------------------------------------------------


class Trail(SnapshotPart):
    """One trail (including shadow copies of trails homed in other regions)."""

    name: str
    arn: str
    home_region: str
    is_multi_region: bool
    is_logging: bool
    log_file_validation: bool
    kms_key_id: str | None
    cloudwatch_log_group_arn: str | None
    # GetTrailStatus LatestCloudWatchLogsDeliveryTime; None: never delivered
    latest_cloudwatch_delivery: AwareDatetime | None
    # GetEventSelectors: which management events the trail records (basic or advanced)
    management_reads: bool = False
    management_writes: bool = False
    management_excluded: tuple[str, ...] = ()  # event sources left out (kms, rdsdata...)
    s3_bucket: str | None = None  # where the trail delivers its log files


class CloudTrailTrails(_AwsSnapshot):
    """Every trail visible from the account's home region, with its logging status."""

    resource_noun: ClassVar[str] = "accounts"

    account_arn: str
    collected_at: AwareDatetime  # "now" for the CloudWatch delivery freshness judgement
    trails: tuple[Trail, ...]


# --- EC2 -------------------------------------------------------------------------------------


class EbsEncryptionByDefault(_AwsSnapshot):
    """Whether new EBS volumes in one region are encrypted by default."""

    resource_noun: ClassVar[str] = "regions"

    region: str
    arn: str  # arn:aws:ec2:<region>:<account>:ebs-encryption-by-default (annexa's convention)
    enabled: bool


# --- IAM: users, customer-managed policies, Access Analyzer ----------------------------------


class PolicyStatement(SnapshotPart):
    """The parts of one IAM policy statement a privilege verdict needs (lists normalised)."""

    effect: str  # "Allow" or "Deny"
    actions: tuple[str, ...]  # Action; empty when the statement uses NotAction
    resources: tuple[str, ...]  # Resource; empty when the statement uses NotResource


class AttachedPolicy(SnapshotPart):
    """A managed policy attached directly to a user."""

    name: str
    arn: str


class InlinePolicy(SnapshotPart):
    """A policy embedded in a user."""

    name: str
    statements: tuple[PolicyStatement, ...]


class IamUser(SnapshotPart):
    """One IAM user and the permissions attached to it directly (not through groups)."""

    name: str
    arn: str
    attached_policies: tuple[AttachedPolicy, ...]
    inline_policies: tuple[InlinePolicy, ...]


class IamUsers(_AwsSnapshot):
    """Every IAM user of the account with its directly attached and inline policies."""

    resource_noun: ClassVar[str] = "users"

    users: tuple[IamUser, ...]


class CustomerPolicy(SnapshotPart):
    """A customer-managed policy and the statements of its default version."""

    name: str
    arn: str
    default_version: str
    attachment_count: int
    statements: tuple[PolicyStatement, ...]


class IamCustomerPolicies(_AwsSnapshot):
    """Every customer-managed policy of the account, attached or not."""

    resource_noun: ClassVar[str] = "policies"

    policies: tuple[CustomerPolicy, ...]


class Analyzer(SnapshotPart):
    """One IAM Access Analyzer analyzer."""

    name: str
    arn: str
    type: str  # ACCOUNT, ORGANIZATION, ACCOUNT_UNUSED_ACCESS, ...
    status: str  # ACTIVE, CREATING, DISABLED, FAILED


class AccessAnalyzers(_AwsSnapshot):
    """The analyzers of one region."""

    resource_noun: ClassVar[str] = "regions"

    region: str
    arn: str  # arn:aws:access-analyzer:<region>:<account>:analyzer (annexa's convention)
    analyzers: tuple[Analyzer, ...]


# --- CloudWatch alarms on the CloudTrail log group ------------------------------------------


class MetricFilter(SnapshotPart):
    """A metric filter on a log group; ``metrics`` as ``namespace/name``."""

    name: str
    pattern: str
    metrics: tuple[str, ...]


class MetricAlarm(SnapshotPart):
    """A CloudWatch alarm; ``metrics`` as ``namespace/name`` (math alarms: every metric)."""

    name: str
    arn: str
    metrics: tuple[str, ...]
    actions_enabled: bool
    alarm_actions: tuple[str, ...]


class TrailLogGroup(SnapshotPart):
    """A multi-region trail's CloudWatch log group, its filters and the alarms on them."""

    trail_arn: str
    log_group_arn: str
    region: str
    metric_filters: tuple[MetricFilter, ...]
    alarms: tuple[MetricAlarm, ...]  # only alarms watching a metric of these filters


class CloudTrailAlarms(_AwsSnapshot):
    """The log groups of every logging multi-region trail that delivers to CloudWatch Logs."""

    resource_noun: ClassVar[str] = "accounts"

    account_arn: str
    log_groups: tuple[TrailLogGroup, ...]


# --- Config, GuardDuty, Security Hub, VPC flow logs (per region) ----------------------------


class ConfigRecorder(SnapshotPart):
    """An AWS Config configuration recorder with its recording status."""

    name: str
    recording: bool
    all_supported: bool  # records every supported resource type (no list, no exclusions)


class ConfigRecorders(_AwsSnapshot):
    """The configuration recorders of one region."""

    resource_noun: ClassVar[str] = "regions"

    region: str
    arn: str  # arn:aws:config:<region>:<account>:configuration-recorder (annexa's convention)
    recorders: tuple[ConfigRecorder, ...]


class GuardDutyDetector(SnapshotPart):
    detector_id: str
    status: str  # ENABLED or DISABLED


class GuardDutyDetectors(_AwsSnapshot):
    """The GuardDuty detectors of one region (at most one exists per region)."""

    resource_noun: ClassVar[str] = "regions"

    region: str
    arn: str  # arn:aws:guardduty:<region>:<account>:detector (annexa's convention)
    detectors: tuple[GuardDutyDetector, ...]


class SecurityStandard(SnapshotPart):
    arn: str  # the standard's ARN (StandardsArn)
    status: str  # PENDING, READY, FAILED, DELETING, INCOMPLETE


class SecurityHubState(_AwsSnapshot):
    """Whether Security Hub is enabled in one region, and its standard subscriptions."""

    resource_noun: ClassVar[str] = "regions"

    region: str
    arn: str  # arn:aws:securityhub:<region>:<account>:hub/default
    enabled: bool
    standards: tuple[SecurityStandard, ...]


class Vpc(SnapshotPart):
    vpc_id: str
    arn: str


class FlowLog(SnapshotPart):
    flow_log_id: str
    resource_id: str
    status: str  # FlowLogStatus: ACTIVE
    delivery_status: str | None  # DeliverLogsStatus: SUCCESS, FAILED; absent for some targets


class VpcFlowLogs(_AwsSnapshot):
    """The VPCs of one region and the flow logs attached to them."""

    resource_noun: ClassVar[str] = "vpcs"

    region: str
    vpcs: tuple[Vpc, ...]
    flow_logs: tuple[FlowLog, ...]


# --- IAM Identity Center ---------------------------------------------------------------------


class IdentityCenterAssignment(SnapshotPart):
    """An account assignment that gives a user a permission set in an account."""

    account_id: str
    permission_set: str  # the permission set's name
    via_group: str | None = None  # the group's display name when assigned through a group


class IdentityCenterUser(SnapshotPart):
    id: str
    user_name: str
    emails: tuple[str, ...]
    display_name: str | None
    assignments: tuple[IdentityCenterAssignment, ...]


class IdentityCenterUsers(_AwsSnapshot):
    """The users of the IAM Identity Center instance visible from the account (its
    management or delegated administrator account) with every account assignment, direct or
    through a group. ``instance_arn`` is ``None`` where the account has no instance."""

    resource_noun: ClassVar[str] = "users"

    region: str
    instance_arn: str | None
    users: tuple[IdentityCenterUser, ...]
