"""Typed AWS snapshots: only the facts the built-in AWS checks judge, never secrets."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, model_validator

from checks.api import Snapshot

__all__ = [
    "AccessKey",
    "CloudTrailTrails",
    "CredentialReportEntry",
    "EbsEncryptionByDefault",
    "IamCredentialReport",
    "IamPasswordPolicy",
    "PasswordPolicy",
    "PublicAccessBlock",
    "S3Bucket",
    "S3Buckets",
    "Trail",
]


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _AwsSnapshot(Snapshot):
    provider: ClassVar[str] = "aws"


# --- IAM -----------------------------------------------------------------------------------


class AccessKey(_Part):
    """One access-key slot of a credential-report row (no key id: the report has none)."""

    slot: int  # 1 or 2, as in the report's access_key_N_* columns
    active: bool
    last_rotated: AwareDatetime | None


class CredentialReportEntry(_Part):
    """One row of the IAM credential report; ``is_root`` for the ``<root_account>`` row."""

    user: str
    arn: str
    is_root: bool = False
    password_enabled: bool  # console password; False for root (AWS reports not_supported)
    mfa_active: bool
    access_keys: tuple[AccessKey, ...] = ()


class IamCredentialReport(_AwsSnapshot):
    """The account's credential report; ``generated_at`` is "now" for age judgements."""

    resource_noun: ClassVar[str] = "users"

    generated_at: AwareDatetime
    entries: tuple[CredentialReportEntry, ...]

    @model_validator(mode="after")
    def _one_root(self) -> IamCredentialReport:
        # AWS always reports the root user; a report without it cannot vouch for root MFA.
        roots = sum(e.is_root for e in self.entries)
        if roots != 1:
            raise ValueError(f"credential report must have one <root_account> row, has {roots}")
        return self

    @property
    def root(self) -> CredentialReportEntry:
        return next(e for e in self.entries if e.is_root)

    @property
    def users(self) -> tuple[CredentialReportEntry, ...]:
        return tuple(e for e in self.entries if not e.is_root)


class PasswordPolicy(_Part):
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


class PublicAccessBlock(_Part):
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


class S3Bucket(_Part):
    """One bucket: its own public access block and default encryption (None: not set)."""

    name: str
    arn: str
    public_access_block: PublicAccessBlock | None
    default_encryption: str | None  # SSEAlgorithm: AES256, aws:kms, aws:kms:dsse


class S3Buckets(_AwsSnapshot):
    """All buckets of the account plus the account-level public access block."""

    resource_noun: ClassVar[str] = "buckets"

    account_public_access_block: PublicAccessBlock | None
    buckets: tuple[S3Bucket, ...]

    def effective_public_access_block(self, bucket: S3Bucket) -> PublicAccessBlock:
        """The bucket's block combined with the account's (either one being on counts)."""
        own = bucket.public_access_block or NO_PUBLIC_ACCESS_BLOCK
        return own.merged(self.account_public_access_block)


# --- CloudTrail ------------------------------------------------------------------------------


class Trail(_Part):
    """One trail (including shadow copies of trails homed in other regions)."""

    name: str
    arn: str
    home_region: str
    is_multi_region: bool
    is_logging: bool


class CloudTrailTrails(_AwsSnapshot):
    """Every trail visible from the account's home region, with its logging status."""

    resource_noun: ClassVar[str] = "accounts"

    account_arn: str
    trails: tuple[Trail, ...]


# --- EC2 -------------------------------------------------------------------------------------


class EbsEncryptionByDefault(_AwsSnapshot):
    """Whether new EBS volumes in one region are encrypted by default."""

    resource_noun: ClassVar[str] = "regions"

    region: str
    arn: str  # arn:aws:ec2:<region>:<account>:ebs-encryption-by-default (annexa's convention)
    enabled: bool
