"""Settings: a YAML config file, overridden by ``ANNEXA_*`` environment variables.

Nested fields use ``__`` in the environment (``ANNEXA_AWS__REGIONS='["eu-west-1"]'``).
Relative paths in the file are relative to the file's folder.
"""

from __future__ import annotations

import difflib
import os
import re
import typing
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from checks.deadlines import DeadlineDays
from checks.network import InternetPrefix
from collector.errors import UserError
from collector.os_support import default_minimums
from collector.yamlfile import read_yaml

CONFIG_ENV = "ANNEXA_CONFIG"


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("annexa", appauthor=False))


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("annexa", appauthor=False)) / "annexa.yaml"


class AwsAccount(BaseModel):
    """One AWS account to audit. With nothing set, the default credential chain is used."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="label shown when the account id is unknown")
    profile: str | None = Field(None, description="named profile from ~/.aws/config")
    role_arn: str | None = Field(
        None,
        pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
        description="assume this role (from the profile or default chain) to audit its account",
    )
    external_id: str | None = Field(None, description="ExternalId for role_arn, if it needs one")
    session_name: str | None = Field(None, description="RoleSessionName (default: annexa)")


class AwsOrganization(BaseModel):
    """Audit every ACTIVE account of an AWS Organization, read from the management account."""

    model_config = ConfigDict(extra="forbid")

    role_name: str = Field("AnnexaAudit", description="role assumed in each member account")
    external_id: str | None = None
    profile: str | None = Field(None, description="management account profile (default chain)")
    include: list[str] | None = Field(None, description="only these account ids")
    exclude: list[str] = Field(default_factory=list, description="skip these account ids")


class AwsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    accounts: list[AwsAccount] = Field(default_factory=lambda: [AwsAccount()])
    regions: list[str] | Literal["all", "session"] | None = Field(
        "all",
        description="regions for regional checks: all (every enabled region, ec2:DescribeRegions;"
        " also when null), session (the session's region only) or a list",
    )
    required_tags: list[str] = Field(
        default_factory=lambda: ["owner", "classification"],
        description="tag keys aws.tagging.required_tags expects on every resource",
    )
    internet_prefix: InternetPrefix = Field(
        default_factory=InternetPrefix,
        description="security groups admitting more public addresses than one /ipv4 or /ipv6 "
        "network count as open to the internet",
    )
    organization: AwsOrganization | None = Field(
        None, description="discover accounts with organizations:ListAccounts"
    )
    backup_window_days: int = Field(
        2, ge=1, description="aws.backup.jobs_succeeded: a completed backup within this"
    )
    restore_test_days: int = Field(
        90, ge=1, description="aws.backup.restore_tested: a completed restore within this"
    )
    log_retention_days: int = Field(
        365, ge=1, description="aws.logs.retention_minimum: shortest accepted retention"
    )
    finding_max_age_days: int = Field(
        7, ge=1, description="aws.guardduty.high_findings_triaged: longest a finding stays open"
    )
    vulnerability_deadline_days: DeadlineDays = Field(
        default_factory=lambda: {"critical": 15, "high": 30},
        description="aws.inspector.findings_within_deadline: days a critical / high finding "
        "may stay active",
    )
    max_attempts: int = Field(
        10, ge=1, le=20, description="tries per API call (the first included) while throttled"
    )
    transient_retry_seconds: float = Field(
        5.0,
        ge=0,
        le=300,
        description="a call failing with a server error (5xx) or in transport is retried "
        "until this much time has passed since its first try",
    )
    identity_center_region: str | None = Field(
        None, description="IAM Identity Center's home region (default: the session's)"
    )


class AzureTenant(BaseModel):
    """One Microsoft Entra tenant: its credential (by name, never a secret) and subscriptions."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str = Field(min_length=1, description="directory (tenant) id")
    name: str | None = Field(None, description="label shown in logs")
    credential: Literal["default", "client_secret", "certificate", "workload_identity"] = "default"
    client_id: str | None = Field(None, description="app registration (client) id")
    client_secret_env: str | None = Field(None, description="env variable holding the secret")
    certificate_path: Path | None = Field(None, description="PEM/PKCS12 certificate with key")
    certificate_password_env: str | None = Field(None, description="env variable: its password")
    subscriptions: list[str] | Literal["all"] = Field(
        "all", description="subscription ids, or all the credential can read"
    )
    include: list[str] = Field(default_factory=list, description="subscription id/name globs")
    exclude: list[str] = Field(default_factory=list, description="subscription id/name globs")

    @model_validator(mode="after")
    def _credential_inputs(self) -> AzureTenant:
        needs = {
            "client_secret": ("client_id", "client_secret_env"),
            "certificate": ("client_id", "certificate_path"),
        }.get(self.credential, ())
        missing = [name for name in needs if not getattr(self, name)]
        if missing:
            raise ValueError(f"credential {self.credential} needs {', '.join(missing)}")
        return self


class EntraPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inactive_days: int = Field(90, ge=1, description="no sign-in for this long is inactive")
    secret_max_lifetime_days: int = Field(366, ge=1, description="longest allowed client secret")
    break_glass_accounts: list[str] = Field(
        default_factory=list,
        description="object ids of the emergency-access users, or of the group holding them, "
        "that an all-users Conditional Access policy may exclude",
    )
    access_review_days: int = Field(
        366,
        ge=1,
        description="entra.access_reviews.privileged_and_guests: a review instance completed "
        "within this",
    )


class IntunePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    denied_apps: list[str] = Field(
        default_factory=list,
        description="intune.apps.denied_absent: app name globs (case-insensitive) that no "
        "managed device may have installed",
    )
    screen_lock_max_minutes: int = Field(
        15,
        ge=1,
        description="longest idle time before the screen locks a compliance policy may allow",
    )

    sync_within_days: int = Field(7, ge=1, description="a device must have synced this recently")
    app_protection_platforms: list[Literal["iOS", "Android"]] = Field(
        default_factory=lambda: ["iOS", "Android"],
        description="intune.app_protection.data_contained: mobile platforms that need an "
        "assigned app protection policy keeping data in managed apps",
    )
    asset_return_days: int = Field(
        14,
        ge=0,
        description="intune.devices.leavers_returned: days after a disabled user's leave date "
        "(employeeLeaveDateTime) their managed devices may stay assigned to them",
    )
    min_os_versions: dict[str, str] = Field(
        default_factory=lambda: default_minimums("intune"),
        description="operating system (as Intune names it) -> lowest accepted version "
        "(default: collector/os_support.yaml, dated)",
    )


class AzureSettings(BaseModel):
    """Azure (ARM), Entra ID and Intune: tenants to audit and the policy the checks apply."""

    model_config = ConfigDict(extra="forbid")

    tenants: list[AzureTenant] = Field(default_factory=list)
    defender_plans: list[str] = Field(
        default_factory=lambda: [
            "VirtualMachines",
            "SqlServers",
            "AppServices",
            "StorageAccounts",
            "KeyVaults",
            "Arm",
            "Containers",
        ],
        description="Defender for Cloud plans that must be on the Standard tier",
    )
    vulnerability_sla_days: int = Field(
        30,
        ge=1,
        description="azure.defender.vulnerabilities_within_sla: longest a resource may carry "
        "open high or critical Defender vulnerability findings",
    )
    alert_max_age_days: int = Field(
        7, ge=1, description="azure.defender.high_alerts_triaged: longest a high alert stays Active"
    )
    backup_window_days: int = Field(
        2, ge=1, description="azure.backup.jobs_succeeded: a completed backup within this"
    )
    restore_test_days: int = Field(
        90, ge=1, description="azure.backup.restore_tested: a completed restore within this"
    )
    log_retention_days: int = Field(
        365,
        ge=1,
        description="azure.monitor.workspace_retention_minimum: shortest accepted retention",
    )
    diagnostic_resource_types: list[str] = Field(
        default_factory=lambda: [
            "Microsoft.KeyVault/vaults",
            "Microsoft.Network/azureFirewalls",
            "Microsoft.Network/applicationGateways",
        ],
        description="azure.monitor.resource_logs_exported: resource types whose logs a "
        "diagnostic setting must export",
    )
    change_alert_operations: list[str] = Field(
        default_factory=lambda: [
            "Microsoft.Authorization/policyAssignments/write",
            "Microsoft.Authorization/policyAssignments/delete",
            "Microsoft.Network/networkSecurityGroups/write",
            "Microsoft.Network/networkSecurityGroups/delete",
            "Microsoft.Network/networkSecurityGroups/securityRules/write",
            "Microsoft.Network/networkSecurityGroups/securityRules/delete",
            "Microsoft.Security/securitySolutions/write",
            "Microsoft.Security/securitySolutions/delete",
            "Microsoft.Sql/servers/firewallRules/write",
            "Microsoft.Sql/servers/firewallRules/delete",
        ],
        description="azure.monitor.change_alerts: operations an activity log alert must watch",
    )
    entra: EntraPolicy = Field(default_factory=EntraPolicy)
    intune: IntunePolicy = Field(default_factory=IntunePolicy)
    timeout: float = Field(30.0, gt=0, description="seconds per HTTP request")
    max_attempts: int = Field(5, ge=1, le=10, description="tries per request on 429/503")
    internet_prefix: InternetPrefix = Field(
        default_factory=InternetPrefix,
        description="NSGs admitting more public addresses than one /ipv4 or /ipv6 network "
        "count as open to the internet",
    )


#: Organisation policy constraints enforced by default (gcp.orgpolicy.constraints_enforced).
DEFAULT_ORG_CONSTRAINTS = (
    "iam.allowedPolicyMemberDomains",
    "compute.vmExternalIpAccess",
    "storage.publicAccessPrevention",
    "iam.disableServiceAccountKeyCreation",
    "sql.restrictPublicIp",
)
_GCP_SCOPE = re.compile(r"(organizations|folders|projects)/[\w.:-]+")


class GcpSettings(BaseModel):
    """Google Cloud through Cloud Asset Inventory: scopes to audit and how to authenticate."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    scopes: list[str] = Field(
        default_factory=list, description="organizations/<id>, folders/<id> or projects/<id>"
    )
    credentials: Literal["adc", "service_account_file", "workload_identity_federation"] = "adc"
    key_file: Path | None = Field(None, description="service-account key or WIF config file")
    quota_project: str | None = Field(None, description="project billed for Asset API quota")
    api_endpoint: str | None = Field(None, description="Cloud Asset API endpoint override")
    security_center_endpoint: str | None = Field(
        None, description="Security Command Center API endpoint override"
    )
    vulnerability_deadline_days: DeadlineDays = Field(
        default_factory=lambda: {"critical": 15, "high": 30},
        description="gcp.scc.vulnerabilities_within_deadline: days a critical / high "
        "vulnerability finding may stay active",
    )
    threat_max_age_days: int = Field(
        7, ge=1, description="gcp.scc.threats_triaged: longest a high threat finding stays active"
    )
    key_rotation_days: int = Field(90, ge=1, description="oldest SA key / KMS rotation period")
    log_retention_days: int = Field(
        365, ge=1, description="gcp.logging.bucket_retention_minimum: shortest accepted retention"
    )
    required_org_constraints: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ORG_CONSTRAINTS),
        description="gcp.orgpolicy.constraints_enforced: constraints enforced at the "
        "organisation and not weakened below it",
    )
    timeout: float = Field(60.0, gt=0, description="seconds per API request")

    @model_validator(mode="after")
    def _valid(self) -> GcpSettings:
        bad = [s for s in self.scopes if not _GCP_SCOPE.fullmatch(s)]
        if bad:
            raise ValueError(f"scope {bad[0]!r} must be organizations/, folders/ or projects/<id>")
        if self.credentials != "adc" and self.key_file is None:
            raise ValueError(f"credentials {self.credentials} needs key_file")
        return self


class OsquerySettings(BaseModel):
    """The local host through ``osqueryi`` (off unless enabled or ``--provider osquery``)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    osqueryi: str = Field("osqueryi", description="osqueryi binary name or path")
    timeout: float = Field(60.0, gt=0, description="seconds per query")
    min_os_versions: dict[str, str] = Field(
        default_factory=lambda: default_minimums("osquery"),
        description="osquery platform (darwin, windows, ubuntu, ...) -> lowest accepted version "
        "(default: collector/os_support.yaml, dated)",
    )
    max_grace_seconds: int = Field(5, ge=0, description="macOS: password after screen saver")
    max_idle_seconds: int = Field(900, ge=1, description="Windows: machine inactivity limit")
    allowed_admins: list[str] | None = Field(
        None,
        description="osquery.host.local_admins_allowed: the local accounts that may be in the "
        "administrators group (unset: the check is an error)",
    )


class WorkspaceSettings(BaseModel):
    """Google Workspace (Admin SDK Directory API): a service account with domain-wide
    delegation acting as an administrator, read-only."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    customer: str = Field("my_customer", description="customer id (my_customer: the admin's)")
    domain: str | None = Field(None, description="primary domain, the account label")
    admin_email: str | None = Field(None, description="administrator the key acts as")
    key_file: Path | None = Field(None, description="service-account JSON key (delegated)")
    inactive_days: int = Field(90, ge=1, description="no login for this long is inactive")
    allowed_apps: list[str] | None = Field(
        None,
        description="workspace.apps.authorized_allowed: OAuth client ids or app names users "
        "may grant access to (null: not configured, the check is an ERROR)",
    )
    app_grant_days: int = Field(
        180, ge=1, le=180, description="grants looked at (the Reports API keeps 180 days)"
    )
    timeout: float = Field(30.0, gt=0, description="seconds per HTTP request")
    max_attempts: int = Field(5, ge=1, le=10, description="tries per request on 429/503")


class OktaSettings(BaseModel):
    """Okta: an API token (``SSWS``) from the environment, or an OAuth service app signing a
    ``private_key_jwt`` client assertion; and the policy the checks apply."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    org_url: str | None = Field(
        None, pattern=r"^https://[^/]+$", description="https://<org>.okta.com"
    )
    auth: Literal["api_token", "private_key_jwt"] = "api_token"
    token_env: str = Field("OKTA_API_TOKEN", description="env variable holding the API token")
    client_id: str | None = Field(None, description="service app client id (private_key_jwt)")
    private_key_file: Path | None = Field(None, description="PEM private key (private_key_jwt)")
    key_id: str | None = Field(None, description="kid of the key registered on the app")
    inactive_days: int = Field(90, ge=1, description="no login for this long is inactive")
    password_min_length: int = Field(14, ge=1, description="shortest accepted minLength")
    password_history: int = Field(24, ge=0, description="fewest remembered passwords")
    mfa_min_strength: Literal["weak", "strong", "phishing_resistant"] = Field(
        "weak", description="weakest factor that counts as MFA (question and email never do)"
    )
    timeout: float = Field(30.0, gt=0, description="seconds per HTTP request")
    max_attempts: int = Field(5, ge=1, le=10, description="tries per request on 429/503")

    @model_validator(mode="after")
    def _jwt_inputs(self) -> OktaSettings:
        if self.auth == "private_key_jwt" and not (self.client_id and self.private_key_file):
            raise ValueError("auth private_key_jwt needs client_id and private_key_file")
        return self


class FleetPolicyNames(BaseModel):
    """The Fleet policy (name or id) that checks each control Fleet has no host field for."""

    model_config = ConfigDict(extra="forbid")

    screen_lock: str | int | None = None
    firewall: str | int | None = None
    antimalware: str | int | None = None
    os_updates: str | int | None = None
    time_sync: str | int | None = None
    local_admins: str | int | None = None


class FleetSettings(BaseModel):
    """Fleet (fleetdm.com) REST API with an API token from the environment."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    base_url: str | None = Field(None, pattern=r"^https?://[^/]+$", description="Fleet server")
    token_env: str = Field("FLEET_API_TOKEN", description="env variable holding the API token")
    policies: FleetPolicyNames = Field(default_factory=FleetPolicyNames)
    per_page: int = Field(100, ge=1, le=10000, description="hosts per page")
    denied_software: list[str] = Field(
        default_factory=list,
        description="fleet.software.denied_absent: software title name globs "
        "(case-insensitive) that no host may have installed",
    )
    vulnerability_deadline_days: DeadlineDays = Field(
        default_factory=lambda: {"critical": 15, "high": 30},
        description="fleet.vulnerabilities.within_deadline: days a critical / high CVE may "
        "stay on a host",
    )
    timeout: float = Field(30.0, gt=0, description="seconds per HTTP request")
    max_attempts: int = Field(5, ge=1, le=10, description="tries per request on 429/503")


class GithubSettings(BaseModel):
    """GitHub organisations (github.com or GitHub Enterprise Server) read with a GitHub App's
    installation token or a fine-grained token from the environment."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    organizations: list[str] = Field(default_factory=list, description="organisation logins")
    api_url: str = Field(
        "https://api.github.com",
        pattern=r"^https?://[^?#]+$",
        description="GHES: https://<host>/api/v3",
    )
    auth: Literal["token", "app"] = "token"
    token_env: str = Field("GITHUB_TOKEN", description="env variable holding the token")
    app_id: str | None = Field(None, description="GitHub App id (auth: app)")
    private_key_file: Path | None = Field(None, description="the App's PEM private key")
    installation_id: int | None = Field(None, description="default: looked up per organisation")
    min_owners: int = Field(2, ge=1, description="fewest organisation owners")
    max_owners: int = Field(4, ge=1, description="most organisation owners")
    inactive_days: int = Field(90, ge=1, description="no audit-log activity for this long")
    alert_deadline_days: dict[Literal["critical", "high"], int] = Field(
        default_factory=lambda: {"critical": 7, "high": 30},
        description="days an open critical / high alert may stay open",
    )
    per_page: int = Field(100, ge=1, le=100, description="items per page")
    timeout: float = Field(30.0, gt=0, description="seconds per HTTP request")
    max_attempts: int = Field(5, ge=1, le=10, description="tries per request when throttled")

    @model_validator(mode="after")
    def _app_inputs(self) -> GithubSettings:
        if self.auth == "app" and not (self.app_id and self.private_key_file):
            raise ValueError("auth app needs app_id and private_key_file")
        if set(self.alert_deadline_days) != {"critical", "high"}:
            raise ValueError("alert_deadline_days needs both critical and high")
        return self


class IdentitySettings(BaseModel):
    """Cross-provider identity checks: which identity provider is the source of truth for who
    works here, and how accounts elsewhere are matched to its people."""

    model_config = ConfigDict(extra="forbid")

    source: Literal["entra", "okta", "workspace"] | None = Field(
        None, description="the authoritative identity provider (off when unset)"
    )
    aliases: Path | None = Field(
        None, description="YAML or CSV: person e-mail -> account refs such as github:ann-gh"
    )
    match_local_part: bool = Field(
        False, description="an account named like an e-mail's local part (ann) matches it"
    )
    privileged_permission_sets: list[str] = Field(
        default_factory=lambda: ["AdministratorAccess"],
        description="Identity Center permission sets that make an account privileged",
    )
    privileged_policies: list[str] = Field(
        default_factory=lambda: ["AdministratorAccess"],
        description="IAM managed policies that make an IAM user privileged",
    )
    ignore: list[str] = Field(
        default_factory=list, description="account refs that are not people (service accounts)"
    )


def _duration(value: Any) -> timedelta:
    from checks.api import parse_duration

    if value in (0, "0", "0s"):  # no jitter
        return timedelta(0)
    return parse_duration(value)


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class ScheduleSettings(BaseModel):
    """``annexa daemon``: how often each (check, target) runs, and how many at once."""

    model_config = ConfigDict(extra="forbid")

    intervals: dict[str, Duration] = Field(
        default_factory=dict, description="check id or control id (A.8.24) -> interval"
    )
    jitter: Duration = Field(timedelta(seconds=30), description="random delay")
    stagger: Duration = Field(
        timedelta(seconds=30), description="overdue jobs at start are spread over this window"
    )
    concurrency: int = Field(4, ge=1, le=64, description="jobs running at once")
    grace_period: Duration = Field(
        timedelta(seconds=60), description="on shutdown, wait this long for running checks"
    )
    at_risk_fraction: float = Field(0.8, gt=0, lt=1, description="of the max age: AT_RISK")


class Webhook(BaseModel):
    """One alert destination; the URL may hold a secret and is never logged whole."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(pattern=r"^https?://", description="POST alerts here")
    format: Literal["json", "slack"] = "json"
    timeout: Duration = Field(timedelta(seconds=5), description="per attempt")
    retries: int = Field(3, ge=0, le=10, description="extra attempts after a failure")
    backoff: Duration = Field(timedelta(seconds=1), description="first retry delay (doubles)")


class AlertSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    webhooks: list[Webhook] = Field(default_factory=list)


class DaemonSettings(BaseModel):
    """The daemon's HTTP endpoint: ``/healthz``, ``/livez``, ``/metrics`` and, with ``web``, the
    console."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="bind address (the container image: 0.0.0.0)")
    port: int = Field(9108, ge=0, le=65535, description="0: any free port")
    web: bool = Field(
        False,
        description="also serve the web console here (sign-in and roles from web:)",
    )


_RATE = re.compile(r"\s*\d+\s*(/|per)\s*\d*\s*(second|minute|hour|day)s?\s*")


class CelerySettings(BaseModel):
    """``executor: celery``: the daemon publishes due jobs to a broker; ``annexa worker``
    processes collect them into the shared store."""

    model_config = ConfigDict(extra="forbid")

    broker_url: str = Field(
        "redis://127.0.0.1:6379/0", description="redis://... or amqp://user:pass@host:5672/vhost"
    )
    queue_prefix: str = Field(
        "annexa.", pattern=r"^[\w.:-]*$", description="queues are <prefix><provider>"
    )
    task_time_limit: float | None = Field(
        None, gt=0, description="seconds a batch may run (default: check_timeout); then ERROR"
    )
    redeliver_after: Duration = Field(
        timedelta(minutes=15),
        description=(
            "a published job not stored by then is published again (same job key); time it"
            " waits behind a backlog being worked off does not count"
        ),
    )
    max_deliveries: int = Field(
        3, ge=1, le=20, description="publications of a job before the leader stores an ERROR"
    )
    visibility_timeout: int = Field(
        3600, ge=10, description="Redis: seconds before an unacknowledged task is redelivered"
    )
    rate_limit: str | None = Field(
        "20/second", description="API calls per (account or tenant, service), all workers"
    )
    rate_limits: dict[str, str] = Field(
        default_factory=dict,
        description="per provider:service: {'aws:ec2': '10/second', 'entra:graph': '5/second'}",
    )
    rate_limit_storage: str | None = Field(
        None, description="limits storage URL (default: the broker's Redis, else per process)"
    )

    @model_validator(mode="after")
    def _limits(self) -> CelerySettings:
        limits = {"rate_limit": self.rate_limit} | {
            f"rate_limits.{k}": v for k, v in self.rate_limits.items()
        }
        for name, value in limits.items():
            if value is not None and not _RATE.fullmatch(value):
                raise ValueError(f"{name}: {value!r} is not N/second (or minute, hour, day)")
        from collector.providers import RESOLVERS

        for key in self.rate_limits:
            provider, _, service = key.partition(":")
            if provider not in RESOLVERS or not service:
                raise ValueError(
                    f"rate_limits: {key!r} is not provider:service (aws:ec2, entra:graph, ...)"
                )
        return self


class S3AnchorSettings(BaseModel):
    """An S3 bucket created with Object Lock enabled; checkpoints get COMPLIANCE retention."""

    model_config = ConfigDict(extra="forbid")

    bucket: str
    prefix: str = Field("annexa/checkpoints/", description="key prefix, one per store")
    retention_days: int = Field(2557, ge=1, description="compliance retention (default 7 years)")
    region: str | None = None
    profile: str | None = Field(None, description="AWS profile (default: the default chain)")


class CheckpointSettings(BaseModel):
    """Signed checkpoints of the evidence chain, anchored outside the database."""

    model_config = ConfigDict(extra="forbid")

    signing_key: Path | None = Field(None, description="Ed25519 private key (PEM) to sign with")
    kms_key_id: str | None = Field(None, description="AWS KMS asymmetric key (kms:Sign)")
    kms_region: str | None = None
    directory: Path | None = Field(None, description="append-only directory anchor")
    s3: S3AnchorSettings | None = None
    trusted_keys: list[Path] = Field(
        default_factory=list, description="PEM public keys verify accepts besides the signer's"
    )
    every_minutes: float = Field(15.0, gt=0, description="the daemon's checkpoint interval")

    @model_validator(mode="after")
    def _one_signer(self) -> CheckpointSettings:
        if self.signing_key is not None and self.kms_key_id is not None:
            raise ValueError("give signing_key or kms_key_id, not both")
        anchored = self.directory is not None or self.s3 is not None
        if anchored and self.signing_key is None and self.kms_key_id is None:
            raise ValueError("an anchor needs a signer: set signing_key or kms_key_id")
        return self


WebRole = Literal["viewer", "editor", "auditor"]


class WebUser(BaseModel):
    """A person signing in by OIDC and the role they get; auditors get a period and expiry."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, description="the e-mail claim of the signed-in user")
    role: WebRole = "viewer"
    period_from: date | None = Field(None, description="auditor: first day they may see")
    period_to: date | None = Field(None, description="auditor: last day they may see")
    expires: date | None = Field(None, description="access ends after this day")


class WebToken(BaseModel):
    """An API token for automation, stored as its SHA-256 (``annexa web token``)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the token")
    role: WebRole = "viewer"
    period_from: date | None = None
    period_to: date | None = None
    expires: date | None = None


class OidcSettings(BaseModel):
    """Sign-in with the organisation's identity provider (OpenID Connect, code flow + PKCE)."""

    model_config = ConfigDict(extra="forbid")

    issuer: str = Field(pattern=r"^https?://", description="issuer URL (discovery document)")
    client_id: str = Field(min_length=1)
    client_secret_env: str = Field(
        "ANNEXA_OIDC_CLIENT_SECRET", description="env variable holding the client secret"
    )
    scopes: str = "openid email profile"


class WebSettings(BaseModel):
    """``annexa serve``: the web console."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="bind address")
    port: int = Field(8080, ge=0, le=65535, description="0: any free port")
    public_url: str | None = Field(None, description="external base URL (OIDC redirect)")
    oidc: OidcSettings | None = None
    users: list[WebUser] = Field(default_factory=list)
    default_role: WebRole | None = Field(None, description="role of other signed-in users")
    tokens: list[WebToken] = Field(default_factory=list)
    anonymous_role: WebRole | None = Field(
        "viewer", description="role without sign-in, only while bound to loopback"
    )
    session_secret_env: str = Field(
        "ANNEXA_WEB_SECRET", description="env variable: key signing sessions and CSRF tokens"
    )


class Settings(BaseSettings):
    """Everything annexa reads from its config file and environment."""

    model_config = SettingsConfigDict(
        env_prefix="ANNEXA_", env_nested_delimiter="__", extra="forbid"
    )

    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite in data_dir")
    data_dir: Path = Field(default_factory=default_data_dir)
    soa: Path | None = Field(None, description="Statement of Applicability (YAML, CSV, XLSX)")
    mappings: list[Path] = Field(default_factory=list, description="extra check->control YAML")
    checks: list[str] | None = Field(None, description="run only these check ids")
    exclude_checks: list[str] = Field(default_factory=list)
    concurrency: int = Field(8, ge=1, le=64, description="checks evaluated at once")
    check_timeout: float = Field(300.0, gt=0, description="seconds before a check is an ERROR")
    log_format: Literal["auto", "console", "json"] = "auto"
    aws: AwsSettings = Field(default_factory=AwsSettings)
    azure: AzureSettings = Field(default_factory=AzureSettings)
    gcp: GcpSettings = Field(default_factory=GcpSettings)
    osquery: OsquerySettings = Field(default_factory=OsquerySettings)
    workspace: WorkspaceSettings = Field(default_factory=WorkspaceSettings)
    okta: OktaSettings = Field(default_factory=OktaSettings)
    fleet: FleetSettings = Field(default_factory=FleetSettings)
    github: GithubSettings = Field(default_factory=GithubSettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    daemon: DaemonSettings = Field(default_factory=DaemonSettings)
    executor: Literal["local", "celery"] = Field(
        "local", description="the daemon collects itself (local) or through Celery workers"
    )
    celery: CelerySettings = Field(default_factory=CelerySettings)
    checkpoints: CheckpointSettings = Field(default_factory=CheckpointSettings)

    web: WebSettings = Field(default_factory=WebSettings)
    config_path: Path | None = Field(None, exclude=True)

    @property
    def store_url(self) -> str:
        """The evidence store URL: ``database_url`` or a SQLite file in ``data_dir``."""
        return self.database_url or f"sqlite:///{self.data_dir / 'annexa.sqlite'}"


class _FileSource(PydanticBaseSettingsSource):
    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._data


def load_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """Load settings from ``config`` (else ``$ANNEXA_CONFIG``, else the user config file if it
    exists), the environment and ``overrides`` (highest precedence). Raises UserError."""
    path = config or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    if path is None and default_config_path().is_file():
        path = default_config_path()
    data = _read_config(path) if path else {}
    if path:
        data = _relative_to(Settings, data, path.resolve().parent)

    class _Settings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return init_settings, env_settings, _FileSource(settings_cls, data)

    where = f"{path}" if path else "configuration"
    try:
        settings = _Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"]) or "(top level)"
        raise UserError(f"{where} (or ANNEXA_* environment): {field}: {error['msg']}") from None
    except SettingsError as exc:  # a list or mapping from the environment that is not JSON
        found = re.search(r'field "(\w+)"', str(exc))
        name = f"{ENV_PREFIX}{found[1].upper()}" if found else "an ANNEXA_* variable"
        raise UserError(
            f"{name}: not valid JSON (lists and mappings from the environment are JSON: "
            '\'["a", "b"]\' or \'{"key": "value"}\')'
        ) from None
    _refuse_unknown_environment(settings)
    return settings.model_copy(update={"config_path": path})


ENV_PREFIX = "ANNEXA_"
#: ANNEXA_* variables that are not settings: the config path, compose's database password, and
#: the test suite's own (ANNEXA_TEST_*)
NOT_SETTINGS = {CONFIG_ENV, "ANNEXA_DB_PASSWORD"}


def _refuse_unknown_environment(settings: Settings) -> None:
    """An ``ANNEXA_*`` variable that names no setting is a typo (``ANNEXA_DATABSE_URL`` would
    otherwise leave the default store in use): refuse it, suggesting the closest name."""
    fields = {f"{ENV_PREFIX}{name.upper()}" for name in Settings.model_fields}
    fields.discard(f"{ENV_PREFIX}CONFIG_PATH")
    named = {v.upper() for v in _secret_env_names(settings)}  # e.g. client_secret_env
    for variable in sorted(os.environ):
        upper = variable.upper()
        if not upper.startswith(ENV_PREFIX) or upper in NOT_SETTINGS | named:
            continue
        if upper.startswith(f"{ENV_PREFIX}TEST_") or upper.split("__", 1)[0] in fields:
            continue
        close = difflib.get_close_matches(upper.split("__", 1)[0], sorted(fields), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UserError(f"environment variable {variable}: no such setting{hint}")


def _secret_env_names(model: Any) -> list[str]:
    """Every ``*_env`` setting's value: names of variables holding secrets, at any depth."""
    if isinstance(model, list):
        return [n for item in model for n in _secret_env_names(item)]
    if not isinstance(model, BaseModel):
        return []
    names = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name.endswith("_env") and isinstance(value, str):
            names.append(value)
        else:
            names += _secret_env_names(value)
    return names


def _relative_to(model: type[BaseModel], data: Any, base: Path) -> Any:
    """Resolve every relative path the file gives for a ``Path`` field (at any depth) against
    the config file's folder; paths from the environment stay relative to the working dir."""
    if not isinstance(data, dict):
        return data
    resolved = dict(data)
    for name, field in model.model_fields.items():
        value = data.get(name)
        if value is None:
            continue
        kinds = _kinds(field.annotation)
        if Path in kinds:
            if isinstance(value, str):
                resolved[name] = str(base / value)
            elif isinstance(value, list):
                resolved[name] = [str(base / v) if isinstance(v, str) else v for v in value]
        for kind in kinds:
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                if isinstance(value, list):
                    resolved[name] = [_relative_to(kind, v, base) for v in value]
                else:
                    resolved[name] = _relative_to(kind, value, base)
    return resolved


def _kinds(annotation: Any) -> set[Any]:
    """The concrete types inside ``X | None``, ``list[X]`` and the like."""
    args = typing.get_args(annotation)
    if not args:
        return {annotation}
    return {kind for arg in args for kind in _kinds(arg)}


def _read_config(path: Path) -> dict[str, Any]:
    data = read_yaml(path, label=str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: config must be a mapping of settings, not {type(data).__name__}")
    return data
