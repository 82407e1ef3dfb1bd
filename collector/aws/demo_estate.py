"""A small, realistic AWS estate for ``annexa demo``: some resources compliant, some not.

:func:`seed` creates it through boto3 inside an active moto ``mock_aws``; moto is never
imported here. :func:`install_wire_hooks` serves, in AWS's wire format, what moto cannot
simulate: the credential report's ``<root_account>`` row (root MFA off) and backdated key
rotation dates. Both are built from :data:`DEMO_USERS`, the same facts :func:`seed` creates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from collector.aws.credential_report import (
    ReportKey,
    ReportRow,
    credential_report_body,
    report_csv,
    serve_wire,
    serve_wire_by_region,
    wire_response,
)

__all__ = ["DEMO_BUCKETS", "DEMO_SSO_USERS", "DEMO_USERS", "install_wire_hooks", "seed"]


@dataclass(frozen=True)
class DemoUser:
    name: str
    age_days: int
    console: bool = False
    mfa: bool = False
    key_age_days: int | None = None  # one active access key, last rotated this long ago


@dataclass(frozen=True)
class DemoBucket:
    name: str
    block_all: bool = False
    block_acls_only: bool = False
    encryption: str | None = None  # SSEAlgorithm, or None for the legacy "not configured"
    tls_only: bool = False  # a bucket policy denying aws:SecureTransport=false
    versioned: bool = False
    logged: bool = False  # server access logs to the trail bucket


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("alice", age_days=700, console=True, mfa=True),
    DemoUser("bob", age_days=400, console=True),  # console without MFA
    DemoUser("ci-deploy", age_days=600, key_age_days=200),  # key far past 90 days
    DemoUser("erin", age_days=120, console=True, mfa=True, key_age_days=20),
)
#: IAM Identity Center users: (user name = e-mail, permission set, through this group or None).
DEMO_SSO_USERS: tuple[tuple[str, str, str | None], ...] = (
    ("dave@acme.example", "AdministratorAccess", "platform-admins"),
    ("bob@acme.example", "ReadOnlyAccess", None),  # suspended in the demo's Okta: a leaver
)
TRAIL_BUCKET = "acme-cloudtrail-logs"
TRAIL_KEY = "alias/acme-cloudtrail"
#: GuardDuty, Config, Security Hub, Macie and Access Analyzer are on here only; other regions
#: lack them.
MONITORED_REGION = "us-east-1"
DEMO_BUCKETS: tuple[DemoBucket, ...] = (
    DemoBucket(TRAIL_BUCKET, block_all=True, encryption="AES256", tls_only=True, versioned=True),
    DemoBucket(
        "acme-finance-reports",
        block_all=True,
        encryption="aws:kms",
        tls_only=True,
        versioned=True,
        logged=True,
    ),
    DemoBucket("acme-app-logs", block_all=True, encryption="AES256"),
    DemoBucket("acme-public-website"),  # no block, no default encryption
    DemoBucket("acme-legacy-exports", block_acls_only=True, encryption="AES256"),
)
ROOT_AGE_DAYS = 2000
#: The region where EBS encryption by default is on; every other region leaves it off.
EBS_ENCRYPTED_REGION = "us-east-1"
_DEMO_PASSWORD = "Demo-only-Passw0rd!"


def seed(session: boto3.Session) -> None:
    """Create the demo estate (call inside an active moto ``mock_aws``); S3 before trails."""
    _seed_iam(session)
    _seed_identity_center(session)
    _seed_s3(session)
    _seed_cloudtrail(session)
    _seed_monitoring(session)
    _seed_data_and_network(session, EBS_ENCRYPTED_REGION)  # before encryption by default
    _seed_inspector(session)
    session.client("ec2", region_name=EBS_ENCRYPTED_REGION).enable_ebs_encryption_by_default()


def install_wire_hooks(
    session: boto3.Session, *, account: str | None = None, now: datetime | None = None
) -> None:
    """Serve the demo's credential report (root MFA off, old keys) to clients made from now on.

    ``account`` defaults to the caller identity's; ``now`` (aware UTC) to the current time.
    """
    now = now or datetime.now(UTC)
    if account is None:
        account = session.client("sts").get_caller_identity()["Account"]
    rows = [ReportRow.root(account, created=now - timedelta(days=ROOT_AGE_DAYS), mfa_active=False)]
    for user in DEMO_USERS:
        keys = ()
        if user.key_age_days is not None:
            keys = (ReportKey(True, now - timedelta(days=user.key_age_days)),)
        rows.append(
            ReportRow.iam_user(
                account,
                user.name,
                created=now - timedelta(days=user.age_days),
                console=user.console,
                mfa_active=user.mfa,
                access_keys=keys,
            )
        )
    body = credential_report_body(report_csv(rows), now)
    serve_wire(session, "iam.GetCredentialReport", body)
    _serve_monitoring_wire(session, account)
    _serve_operations_wire(session, account, now)
    _serve_dns_firewall_wire(session, account)
    _serve_macie_wire(session)


def _seed_iam(session: boto3.Session) -> None:
    iam = session.client("iam")
    for user in DEMO_USERS:
        iam.create_user(UserName=user.name)
        if user.console:
            iam.create_login_profile(UserName=user.name, Password=_DEMO_PASSWORD)
        if user.mfa:
            device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user.name)
            iam.enable_mfa_device(
                UserName=user.name,
                SerialNumber=device["VirtualMFADevice"]["SerialNumber"],
                AuthenticationCode1="123456",
                AuthenticationCode2="654321",
            )
        if user.key_age_days is not None:
            iam.create_access_key(UserName=user.name)
    # too short, no symbols, no reuse prevention, no expiry
    iam.update_account_password_policy(
        MinimumPasswordLength=8,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
    )


def _seed_s3(session: boto3.Session) -> None:
    s3 = session.client("s3")
    for bucket in DEMO_BUCKETS:
        s3.create_bucket(Bucket=bucket.name)
        if bucket.block_all or bucket.block_acls_only:
            on = bucket.block_all
            s3.put_public_access_block(
                Bucket=bucket.name,
                PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True,
                    "IgnorePublicAcls": True,
                    "BlockPublicPolicy": on,
                    "RestrictPublicBuckets": on,
                },
            )
        if bucket.encryption:
            default = {"SSEAlgorithm": bucket.encryption}
            if bucket.encryption.startswith("aws:kms"):
                default["KMSMasterKeyID"] = "alias/aws/s3"
            s3.put_bucket_encryption(
                Bucket=bucket.name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": default}]
                },
            )
        _seed_bucket_protection(s3, bucket)


def _seed_bucket_protection(s3: object, bucket: DemoBucket) -> None:
    if bucket.tls_only:
        arn = f"arn:aws:s3:::{bucket.name}"
        deny = {
            "Effect": "Deny",
            "Principal": {"AWS": "*"},  # (moto cannot log to a bucket whose policy says "*")
            "Action": "s3:*",
            "Resource": [arn, arn + "/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
        policy = json.dumps({"Version": "2012-10-17", "Statement": [deny]})
        s3.put_bucket_policy(Bucket=bucket.name, Policy=policy)  # type: ignore[attr-defined]
    if bucket.versioned:
        s3.put_bucket_versioning(  # type: ignore[attr-defined]
            Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"}
        )
    if bucket.logged:
        s3.put_bucket_acl(Bucket=TRAIL_BUCKET, ACL="log-delivery-write")  # type: ignore[attr-defined]
        s3.put_bucket_logging(  # type: ignore[attr-defined]
            Bucket=bucket.name,
            BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": TRAIL_BUCKET, "TargetPrefix": bucket.name}
            },
        )


def _seed_data_and_network(session: boto3.Session, region: str) -> None:
    """One region gets volumes, a wide-open SSH group, keys and tables: some good, some not."""
    ec2 = session.client("ec2", region_name=region)
    ec2.create_volume(AvailabilityZone=f"{region}a", Size=20, Encrypted=True)
    ec2.create_volume(AvailabilityZone=f"{region}a", Size=20)  # predates encryption by default
    vpc = ec2.create_vpc(
        CidrBlock="10.20.0.0/16",
        TagSpecifications=[
            {
                "ResourceType": "vpc",
                "Tags": [
                    {"Key": "owner", "Value": "platform"},
                    {"Key": "classification", "Value": "internal"},
                ],
            }
        ],
    )["Vpc"]["VpcId"]
    bastion = ec2.create_security_group(
        GroupName="legacy-bastion",
        Description="SSH from anywhere",
        VpcId=vpc,
        TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": "owner", "Value": "ops"}]}
        ],
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=bastion,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            }
        ],
    )
    kms = session.client("kms", region_name=region)
    rotated = kms.create_key(Description="acme-finance")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=rotated)
    kms.create_key(Description="acme-legacy-app")  # rotation never turned on
    dynamodb = session.client("dynamodb", region_name=region)
    for table in ("acme-orders", "acme-sessions"):
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    dynamodb.update_continuous_backups(
        TableName="acme-orders",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )


def _seed_inspector(session: boto3.Session) -> None:
    """Inspector scans EC2 and ECR in the first demo region; only EC2 in the second."""
    account = session.client("sts").get_caller_identity()["Account"]
    for region, kinds in (("us-east-1", ["EC2", "ECR"]), ("eu-west-1", ["EC2"])):
        inspector = session.client("inspector2", region_name=region)
        inspector.enable(accountIds=[account], resourceTypes=kinds)


def _seed_cloudtrail(session: boto3.Session) -> None:
    cloudtrail = session.client("cloudtrail")
    # the organisation's multi-region trail logs (A.8.15/A.8.16 pass); a dev trail was stopped
    # both validate and encrypt their log files (A.8.15); neither feeds CloudWatch Logs
    protected = {"EnableLogFileValidation": True, "KmsKeyId": TRAIL_KEY}
    cloudtrail.create_trail(
        Name="acme-org-trail", S3BucketName=TRAIL_BUCKET, IsMultiRegionTrail=True, **protected
    )
    cloudtrail.start_logging(Name="acme-org-trail")
    cloudtrail.put_event_selectors(  # AWS's default for a new trail (moto records none)
        TrailName="acme-org-trail",
        EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    )
    cloudtrail.create_trail(Name="acme-dev-trail", S3BucketName=TRAIL_BUCKET, **protected)


def _seed_monitoring(session: boto3.Session) -> None:
    """GuardDuty, a complete Config recorder, Security Hub and Macie in MONITORED_REGION only."""
    region = MONITORED_REGION
    session.client("guardduty", region_name=region).create_detector(Enable=True)
    config = session.client("config", region_name=region)
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{_account(session)}:role/aws-config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": TRAIL_BUCKET})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    session.client("securityhub", region_name=region).enable_security_hub()
    session.client("macie2", region_name=region).enable_macie()
    _seed_operations(session, region)


def _serve_monitoring_wire(session: boto3.Session, account: str) -> None:
    """What moto lacks, in AWS's REST-JSON: Access Analyzer's analyzers, Security Hub's
    enabled standards and its failing controls (moto ignores GetFindings' filters): an
    ACCOUNT analyzer, FSBP and one failing S3.8 in MONITORED_REGION only."""

    def analyzers(region: str, _: object) -> bytes:
        found = []
        if region == MONITORED_REGION:
            found.append(
                {
                    "arn": f"arn:aws:access-analyzer:{region}:{account}:analyzer/acme-account",
                    "name": "acme-account",
                    "type": "ACCOUNT",
                    "status": "ACTIVE",
                    "createdAt": "2024-03-01T09:00:00Z",
                }
            )
        return json.dumps({"analyzers": found}).encode()

    def standards(region: str, _: object) -> bytes:
        fsbp = "standards/aws-foundational-security-best-practices/v/1.0.0"
        subscription = {
            "StandardsSubscriptionArn": f"arn:aws:securityhub:{region}:{account}:subscription/"
            + fsbp.removeprefix("standards/"),
            "StandardsArn": f"arn:aws:securityhub:{region}::{fsbp}",
            "StandardsInput": {},
            "StandardsStatus": "READY",
        }
        return json.dumps({"StandardsSubscriptions": [subscription]}).encode()

    def failed_controls(region: str, _: object) -> bytes:
        found = []
        if region == MONITORED_REGION:  # the public website bucket fails S3.8 (block public)
            bucket = "arn:aws:s3:::acme-public-website"
            found.append(
                {
                    "SchemaVersion": "2018-10-08",
                    "Id": f"arn:aws:securityhub:{region}:{account}:security-control/S3.8/demo",
                    "ProductArn": f"arn:aws:securityhub:{region}::product/aws/securityhub",
                    "GeneratorId": "security-control/S3.8",
                    "AwsAccountId": account,
                    "Types": [
                        "Software and Configuration Checks/Industry and Regulatory Standards"
                    ],
                    "CreatedAt": "2024-03-01T09:00:00.000Z",
                    "UpdatedAt": "2024-03-01T09:00:00.000Z",
                    "Severity": {"Label": "HIGH", "Normalized": 70},
                    "Title": "S3 general purpose buckets should block public access",
                    "Description": "demo",
                    "Resources": [{"Type": "AwsS3Bucket", "Id": bucket}],
                    "Compliance": {"Status": "FAILED", "SecurityControlId": "S3.8"},
                    "Workflow": {"Status": "NEW"},
                    "RecordState": "ACTIVE",
                }
            )
        return json.dumps({"Findings": found}).encode()

    serve_wire_by_region(session, "accessanalyzer.ListAnalyzers", analyzers)
    serve_wire_by_region(session, "securityhub.GetEnabledStandards", standards)
    serve_wire_by_region(session, "securityhub.GetFindings", failed_controls)


def _serve_dns_firewall_wire(session: boto3.Session, account: str) -> None:
    """Route 53 Resolver DNS Firewall (JSON 1.1, what moto lacks): a rule group blocking a
    malware domain list on the platform VPC in MONITORED_REGION; default VPCs have none."""
    ec2 = session.client("ec2", region_name=MONITORED_REGION)
    tagged = ec2.describe_vpcs(Filters=[{"Name": "tag:owner", "Values": ["platform"]}])["Vpcs"]
    group = "rslvr-frg-0acmemalware01"
    stamp = "2024-03-01T09:00:00.000000Z"

    def associations(region: str, _: object) -> bytes:
        found = [
            {
                "Id": f"rslvr-frgassoc-{v['VpcId'][-8:]}",
                "Arn": f"arn:aws:route53resolver:{region}:{account}:"
                f"firewall-rule-group-association/rslvr-frgassoc-{v['VpcId'][-8:]}",
                "FirewallRuleGroupId": group,
                "VpcId": v["VpcId"],
                "Name": "acme-malware-block",
                "Priority": 101,
                "MutationProtection": "ENABLED",
                "Status": "COMPLETE",
                "CreationTime": stamp,
                "ModificationTime": stamp,
            }
            for v in (tagged if region == MONITORED_REGION else ())
        ]
        return json.dumps({"FirewallRuleGroupAssociations": found}).encode()

    def rules(region: str, _: object) -> bytes:
        rule = {
            "FirewallRuleGroupId": group,
            "FirewallDomainListId": "rslvr-fdl-awsmanagedmalware",
            "Name": "block-malware-domains",
            "Priority": 100,
            "Action": "BLOCK",
            "BlockResponse": "NODATA",
            "CreationTime": stamp,
            "ModificationTime": stamp,
        }
        return json.dumps({"FirewallRules": [rule]}).encode()

    serve_unrouted_wire_by_region(
        session, "route53resolver.ListFirewallRuleGroupAssociations", associations
    )
    serve_unrouted_wire_by_region(session, "route53resolver.ListFirewallRules", rules)


def _serve_macie_wire(session: boto3.Session) -> None:
    """Macie (REST-JSON): outside MONITORED_REGION, GetMacieSession's documented answer where
    Macie is off (moto's differs); automated sensitive data discovery (moto lacks it) is on."""

    def not_enabled(request: Any, **_: Any) -> Any:
        if request.context["client_region"] == MONITORED_REGION:
            return None  # moto answers: Macie was enabled there
        body = json.dumps({"message": "Macie is not enabled."}).encode()
        response = wire_response(request.url, body, status=403, content_type="application/json")
        response.headers["x-amzn-ErrorType"] = "AccessDeniedException"
        return response

    session.events.register_first("before-send.macie2.GetMacieSession", not_enabled)
    serve_unrouted_wire_by_region(
        session,
        "macie2.GetAutomatedDiscoveryConfiguration",
        lambda region, _: json.dumps(
            {
                "autoEnableOrganizationMembers": "NONE",
                "classificationScopeId": "117aff7ed76b59a59c48cc9a2a1ed4e6",
                "firstEnabledAt": "2024-03-01T09:00:00Z",
                "lastUpdatedAt": "2024-03-01T09:00:00Z",
                "sensitivityInspectionTemplateId": "9fac8f5c5d8e4c5d8c1a1b2c3d4e5f60",
                "status": "ENABLED",
            }
        ).encode(),
        content_type="application/json",
    )


#: Backup and restore jobs, GuardDuty findings and Config rule results (what moto lacks) are
#: served in MONITORED_REGION: one failed backup, no restore test, one stale high finding.
DEMO_LOG_GROUPS: tuple[tuple[str, int | None], ...] = (
    ("/acme/audit", 400),
    ("/aws/lambda/acme-api", 14),  # shorter than the 365-day minimum
    ("/acme/archive", None),  # never expires
)
DEMO_CONFIG_RULES = (
    ("s3-bucket-versioning-enabled", "S3_BUCKET_VERSIONING_ENABLED"),
    ("cloudtrail-enabled", "CLOUD_TRAIL_ENABLED"),
)


def _seed_operations(session: boto3.Session, region: str) -> None:
    """A backup plan, log groups with retention, Config rules and an SCP on the root."""
    session.client("backup", region_name=region).create_backup_plan(
        BackupPlan={
            "BackupPlanName": "acme-daily",
            "Rules": [{"RuleName": "daily", "TargetBackupVaultName": "Default"}],
        }
    )
    logs = session.client("logs", region_name=region)
    for name, days in DEMO_LOG_GROUPS:
        logs.create_log_group(logGroupName=name)
        if days is not None:
            logs.put_retention_policy(logGroupName=name, retentionInDays=days)
    config = session.client("config", region_name=region)
    for rule, identifier in DEMO_CONFIG_RULES:
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": rule,
                "Source": {"Owner": "AWS", "SourceIdentifier": identifier},
            }
        )
    organizations = session.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    organizations.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    policy = organizations.create_policy(
        Name="deny-leaving-organization",
        Description="accounts may not leave the organization",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}
                ],
            }
        ),
    )["Policy"]["PolicySummary"]["Id"]
    organizations.attach_policy(PolicyId=policy, TargetId=root)


def _serve_operations_wire(session: boto3.Session, account: str, now: datetime) -> None:
    """AWS Backup jobs (REST-JSON, epoch seconds), GuardDuty findings (REST-JSON, ISO times)
    and Config rule compliance (JSON 1.1), shaped as their API references document them."""

    def monitored(region: str) -> bool:
        return region == MONITORED_REGION

    def backup_jobs(region: str, _: object) -> bytes:
        jobs = []
        if monitored(region):
            for name, state, hours in (("acme-orders", "COMPLETED", 20), ("acme-db", "FAILED", 6)):
                jobs.append(
                    {
                        "BackupJobId": f"job-{name}",
                        "BackupVaultName": "Default",
                        "ResourceArn": f"arn:aws:dynamodb:{region}:{account}:table/{name}",
                        "ResourceType": "DynamoDB",
                        "State": state,
                        "CreationDate": (now - timedelta(hours=hours)).timestamp(),
                    }
                )
        return json.dumps({"BackupJobs": jobs}).encode()

    def restore_jobs(region: str, _: object) -> bytes:
        return json.dumps({"RestoreJobs": []}).encode()  # restores never tested

    def finding_ids(region: str, _: object) -> bytes:
        ids = ["demo-ssh-brute-force", "demo-crypto-mining"] if monitored(region) else []
        return json.dumps({"findingIds": ids}).encode()

    def findings(region: str, _: object) -> bytes:
        found = [
            _guardduty_finding(
                region,
                account,
                "demo-ssh-brute-force",
                "UnauthorizedAccess:EC2/SSHBruteForce",
                8.0,
                now - timedelta(days=20),
            ),
            _guardduty_finding(
                region,
                account,
                "demo-crypto-mining",
                "CryptoCurrency:EC2/BitcoinTool.B!DNS",
                8.0,
                now - timedelta(days=2),
            ),
        ]
        return json.dumps({"findings": found if monitored(region) else []}).encode()

    def compliance(region: str, _: object) -> bytes:
        rules = []
        if monitored(region):
            rules = [
                {
                    "ConfigRuleName": "s3-bucket-versioning-enabled",
                    "Compliance": {
                        "ComplianceType": "NON_COMPLIANT",
                        "ComplianceContributorCount": {"CappedCount": 3, "CapExceeded": False},
                    },
                },
                {
                    "ConfigRuleName": "cloudtrail-enabled",
                    "Compliance": {"ComplianceType": "COMPLIANT"},
                },
            ]
        return json.dumps({"ComplianceByConfigRules": rules}).encode()

    serve_wire_by_region(session, "backup.ListBackupJobs", backup_jobs)
    serve_wire_by_region(session, "backup.ListRestoreJobs", restore_jobs)
    serve_wire_by_region(session, "guardduty.ListFindings", finding_ids)
    serve_wire_by_region(session, "guardduty.GetFindings", findings)
    serve_unrouted_wire_by_region(
        session, "config-service.DescribeComplianceByConfigRule", compliance
    )
    serve_wire_by_region(
        session,
        "inspector2.ListFindings",
        lambda region, _: json.dumps(
            {"findings": _inspector_findings(region, account, now) if monitored(region) else []}
        ).encode(),
    )


def _inspector_findings(region: str, account: str, now: datetime) -> list[dict[str, object]]:
    """Two active package findings (docs.aws.amazon.com/inspector/v2/APIReference/
    API_Finding.html; REST-JSON, epoch seconds): a critical one 40 days old, a high one 3."""
    found = []
    for cve, severity, days in (("CVE-2024-6387", "CRITICAL", 40), ("CVE-2024-3094", "HIGH", 3)):
        seen = (now - timedelta(days=days)).timestamp()
        found.append(
            {
                "awsAccountId": account,
                "findingArn": f"arn:aws:inspector2:{region}:{account}:finding/demo-{cve.lower()}",
                "type": "PACKAGE_VULNERABILITY",
                "title": f"{cve} - openssh",
                "description": "demo",
                "severity": severity,
                "status": "ACTIVE",
                "firstObservedAt": seen,
                "lastObservedAt": now.timestamp(),
                "remediation": {"recommendation": {"text": "upgrade"}},
                "resources": [{"id": "i-0demo0web", "type": "AWS_EC2_INSTANCE"}],
                "packageVulnerabilityDetails": {"vulnerabilityId": cve, "source": "NVD"},
            }
        )
    return found


def serve_unrouted_wire_by_region(
    session: boto3.Session,
    operation: str,
    answer: Callable[[str, Any], bytes],
    *,
    status: int = 200,
    content_type: str = "application/x-amz-json-1.1",
) -> Callable[..., Any]:
    """Like ``serve_wire_by_region`` (JSON 1.1 bodies unless told), for actions moto routes but
    has not implemented: every ``before-send`` handler runs, and moto's would raise beside
    ours, so the request is pointed at a host moto does not route before the wire body (or
    error, with ``status``) is returned."""

    def handler(request: Any, **_: Any) -> Any:
        region = request.context["client_region"]
        request.url = "https://wire.invalid/"
        return wire_response(
            request.url, answer(region, request), status=status, content_type=content_type
        )

    session.events.register_first(f"before-send.{operation}", handler)
    return handler


def _guardduty_finding(
    region: str, account: str, finding_id: str, kind: str, severity: float, created: datetime
) -> dict[str, object]:
    """One GuardDuty Finding object (the API reference's shape, the fields annexa reads and
    the required ones around them)."""
    stamp = created.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "accountId": account,
        "arn": f"arn:aws:guardduty:{region}:{account}:detector/demo/finding/{finding_id}",
        "createdAt": stamp,
        "updatedAt": stamp,
        "id": finding_id,
        "partition": "aws",
        "region": region,
        "resource": {"resourceType": "Instance"},
        "schemaVersion": "2.0",
        "severity": severity,
        "title": kind.split(":", 1)[-1],
        "type": kind,
        "description": "demo finding",
        "service": {"archived": False, "count": 1, "serviceName": "guardduty"},
    }


def _seed_identity_center(session: boto3.Session) -> None:
    """Identity Center users, a group, permission sets provisioned and assigned to the account."""
    sso, store = session.client("sso-admin"), session.client("identitystore")
    instance = sso.list_instances()["Instances"][0]
    arn, store_id = instance["InstanceArn"], instance["IdentityStoreId"]
    account = _account(session)
    for name, permission_set, group in DEMO_SSO_USERS:
        user = store.create_user(
            IdentityStoreId=store_id,
            UserName=name,
            DisplayName=name.split("@")[0].title(),
            Name={"GivenName": name.split("@")[0].title(), "FamilyName": "Example"},
            Emails=[{"Value": name, "Primary": True}],
        )["UserId"]
        principal, kind = user, "USER"
        if group is not None:
            principal = store.create_group(IdentityStoreId=store_id, DisplayName=group)["GroupId"]
            kind = "GROUP"
            store.create_group_membership(
                IdentityStoreId=store_id, GroupId=principal, MemberId={"UserId": user}
            )
        ps = sso.create_permission_set(InstanceArn=arn, Name=permission_set)["PermissionSet"]
        sso.provision_permission_set(
            InstanceArn=arn,
            PermissionSetArn=ps["PermissionSetArn"],
            TargetType="AWS_ACCOUNT",
            TargetId=account,
        )
        sso.create_account_assignment(
            InstanceArn=arn,
            TargetId=account,
            TargetType="AWS_ACCOUNT",
            PermissionSetArn=ps["PermissionSetArn"],
            PrincipalType=kind,
            PrincipalId=principal,
        )


def _account(session: boto3.Session) -> str:
    return str(session.client("sts").get_caller_identity()["Account"])
