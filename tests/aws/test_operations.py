"""Backups, restores, GuardDuty triage, log retention, Config rules and SCPs: moto where it
serves the API, AWS's wire shapes where it does not (each answer names its API reference page),
with paging, missing fields and denied calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
from botocore.exceptions import ClientError

from checks.aws.backup import BackupActivity, jobs_succeeded, restore_tested
from checks.aws.config_rules import ConfigRuleCompliance, rules_compliant
from checks.aws.guardduty import GuardDutyFindings, high_findings_triaged
from checks.aws.logs import LogGroups, retention_minimum
from checks.aws.scps import OrganizationScps, scps_attached
from checks.testing import verdicts
from collector.aws.credential_report import serve_wire_by_region
from collector.aws.demo_estate import serve_unrouted_wire_by_region
from collector.settings import AwsSettings
from collector.testing import collect_aws
from tests.aws.wire import ACCOUNT

REGION = "eu-west-1"
NOW = datetime.now(UTC)


def table(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def job(name: str, state: str, hours: float, kind: str = "backup") -> dict[str, object]:
    """One BackupJob / RestoreJob as ListBackupJobs / ListRestoreJobs return it (REST-JSON,
    epoch seconds: docs.aws.amazon.com/aws-backup/latest/devguide/API_ListBackupJobs.html)."""
    created = (NOW - timedelta(hours=hours)).timestamp()
    if kind == "restore":
        return {
            "RestoreJobId": f"r-{name}-{hours}",
            "Status": state,
            "CreationDate": created,
            "CreatedResourceArn": table(name),
        }
    return {
        "BackupJobId": f"b-{name}-{hours}",
        "ResourceArn": table(name),
        "State": state,
        "ResourceType": "DynamoDB",
        "CreationDate": created,
        "BackupVaultName": "Default",
    }


def serve_jobs(session: boto3.Session, backups: list[dict], restores: list[dict]) -> None:
    """Backup jobs over two pages (NextToken), restore jobs on one."""

    def backup_page(region: str, request: object) -> bytes:
        token = parse_qs(urlparse(request.url).query).get("nextToken")  # type: ignore[attr-defined]
        if token:
            return json.dumps({"BackupJobs": backups[1:]}).encode()
        return json.dumps({"BackupJobs": backups[:1], "NextToken": "page-2"}).encode()

    serve_wire_by_region(session, "backup.ListBackupJobs", backup_page)
    serve_wire_by_region(
        session, "backup.ListRestoreJobs", lambda *_: json.dumps({"RestoreJobs": restores}).encode()
    )


def plan(session: boto3.Session) -> None:
    session.client("backup", region_name=REGION).create_backup_plan(
        BackupPlan={
            "BackupPlanName": "daily",
            "Rules": [{"RuleName": "d", "TargetBackupVaultName": "Default"}],
        }
    )


def test_newest_backup_job_per_resource_decides_across_pages(session) -> None:
    plan(session)
    serve_jobs(
        session,
        [job("orders", "FAILED", 30), job("orders", "COMPLETED", 5), job("ledger", "ABORTED", 3)],
        [job("orders", "COMPLETED", 24 * 40, "restore")],
    )
    activity = collect_aws(BackupActivity, session, region=REGION)
    assert verdicts(jobs_succeeded, activity) == {(table("orders"), True), (table("ledger"), False)}
    assert verdicts(restore_tested, activity) == {(activity.arn, True)}


def test_a_plan_without_any_job_and_no_restore_test_fail(session) -> None:
    plan(session)
    serve_jobs(session, [], [job("orders", "FAILED", 10, "restore")])
    activity = collect_aws(BackupActivity, session, region=REGION)
    assert verdicts(jobs_succeeded, activity) == {(activity.arn, False)}
    ((_, passed),) = verdicts(restore_tested, activity)
    assert passed is False


def test_no_backup_plan_and_no_job_is_nothing_to_judge(session) -> None:
    serve_jobs(session, [], [])
    activity = collect_aws(BackupActivity, session, region=REGION)
    assert verdicts(jobs_succeeded, activity) == set() == verdicts(restore_tested, activity)
    assert len(activity) == 0


def test_a_denied_job_list_is_an_error_not_a_verdict(session) -> None:
    plan(session)
    denied = json.dumps({"Message": "not authorized to perform backup:ListBackupJobs"}).encode()

    from collector.aws.credential_report import wire_response

    def handler(request: object, **_: object) -> object:
        response = wire_response(
            request.url,
            denied,
            status=403,  # type: ignore[attr-defined]
            content_type="application/json",
        )
        response.headers["x-amzn-ErrorType"] = "AccessDeniedException"
        return response

    session.events.register_first("before-send.backup.ListBackupJobs", handler)
    with pytest.raises(ClientError, match="AccessDenied"):
        collect_aws(BackupActivity, session, region=REGION)


def finding(finding_id: str, days: float, severity: float = 8.0) -> dict[str, object]:
    """A GuardDuty Finding (docs.aws.amazon.com/guardduty/latest/APIReference/API_Finding.html);
    times are ISO 8601 strings in this API."""
    stamp = (NOW - timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "id": finding_id,
        "arn": f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/d/finding/{finding_id}",
        "type": "Recon:EC2/PortProbeUnprotectedPort",
        "title": "probe",
        "severity": severity,
        "createdAt": stamp,
        "updatedAt": stamp,
        "accountId": ACCOUNT,
        "region": REGION,
        "partition": "aws",
        "schemaVersion": "2.0",
        "resource": {"resourceType": "Instance"},
        "service": {"archived": False},
    }


def test_guardduty_findings_past_the_deadline_fail_and_ids_are_fetched_in_fifties(session):
    session.client("guardduty", region_name=REGION).create_detector(Enable=True)
    ids = [f"f{i:02d}" for i in range(55)]
    asked: list[list[str]] = []

    def id_pages(region: str, request: object) -> bytes:
        sent = json.loads(request.body or b"{}")  # type: ignore[attr-defined]
        assert sent["findingCriteria"]["criterion"]["service.archived"]["equals"] == ["false"]
        if sent.get("nextToken"):
            return json.dumps({"findingIds": ids[30:]}).encode()
        return json.dumps({"findingIds": ids[:30], "nextToken": "two"}).encode()

    def details(region: str, request: object) -> bytes:
        wanted = json.loads(request.body)["findingIds"]  # type: ignore[attr-defined]
        asked.append(wanted)
        return json.dumps(
            {"findings": [finding(i, 20 if i == "f00" else 1) for i in wanted]}
        ).encode()

    serve_wire_by_region(session, "guardduty.ListFindings", id_pages)
    serve_wire_by_region(session, "guardduty.GetFindings", details)
    snapshot = collect_aws(GuardDutyFindings, session, region=REGION)
    assert [len(a) for a in asked] == [50, 5]
    failed = {r for r, ok in verdicts(high_findings_triaged, snapshot) if not ok}
    assert failed == {f"arn:aws:guardduty:{REGION}:{ACCOUNT}:detector/d/finding/f00"}
    assert len(verdicts(high_findings_triaged, snapshot)) == 55


def test_guardduty_without_a_detector_has_nothing_to_judge(session) -> None:
    snapshot = collect_aws(GuardDutyFindings, session, region=REGION)
    assert snapshot.detectors == () and verdicts(high_findings_triaged, snapshot) == set()


def test_log_retention_below_the_minimum_fails_and_never_expiring_passes(session) -> None:
    logs = session.client("logs", region_name=REGION)
    for name, days in (("short", 14), ("long", 400), ("forever", None)):
        logs.create_log_group(logGroupName=name)
        if days:
            logs.put_retention_policy(logGroupName=name, retentionInDays=days)
    snapshot = collect_aws(LogGroups, session, region=REGION)
    found = {r.rsplit(":", 1)[-1]: ok for r, ok in verdicts(retention_minimum, snapshot)}
    assert found == {"short": False, "long": True, "forever": True}
    stricter = collect_aws(
        LogGroups, session, region=REGION, settings=AwsSettings(log_retention_days=500)
    )
    assert {ok for _, ok in verdicts(retention_minimum, stricter)} == {False, True}
    assert sum(not ok for _, ok in verdicts(retention_minimum, stricter)) == 2


def test_config_rules_non_compliant_and_unevaluated_fail(session) -> None:
    config = session.client("config", region_name=REGION)
    for name, source in (
        ("versioning", "S3_BUCKET_VERSIONING_ENABLED"),
        ("trail", "CLOUD_TRAIL_ENABLED"),
        ("new", "IAM_PASSWORD_POLICY"),
        ("na", "RDS_STORAGE_ENCRYPTED"),
    ):
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": name,
                "Source": {"Owner": "AWS", "SourceIdentifier": source},
            }
        )
    # DescribeComplianceByConfigRule (JSON 1.1; docs.aws.amazon.com/config/latest/APIReference/
    # API_DescribeComplianceByConfigRule.html): "new" has no evaluation yet, so it is absent
    answer = {
        "ComplianceByConfigRules": [
            {
                "ConfigRuleName": "versioning",
                "Compliance": {
                    "ComplianceType": "NON_COMPLIANT",
                    "ComplianceContributorCount": {"CappedCount": 4, "CapExceeded": False},
                },
            },
            {"ConfigRuleName": "trail", "Compliance": {"ComplianceType": "COMPLIANT"}},
            {"ConfigRuleName": "na", "Compliance": {"ComplianceType": "NOT_APPLICABLE"}},
        ]
    }
    serve_unrouted_wire_by_region(
        session,
        "config-service.DescribeComplianceByConfigRule",
        lambda *_: json.dumps(answer).encode(),
    )
    snapshot = collect_aws(ConfigRuleCompliance, session, region=REGION)
    found = {r.split("/")[-1]: ok for r, ok in verdicts(rules_compliant, snapshot)}
    names = {rule.arn.split("/")[-1]: rule.name for rule in snapshot.items}
    assert {names[k]: v for k, v in found.items()} == {
        "versioning": False,
        "trail": True,
        "new": False,
    }
    assert any("4 resources" in f.message for f in rules_compliant(snapshot))


def test_scps_attached_to_the_root_pass_and_their_absence_fails(session) -> None:
    organizations = session.client("organizations")
    organizations.create_organization(FeatureSet="ALL")
    root = organizations.list_roots()["Roots"][0]["Id"]
    assert {ok for _, ok in verdicts(scps_attached, collect_aws(OrganizationScps, session))} == {
        False
    }
    organizations.enable_policy_type(RootId=root, PolicyType="SERVICE_CONTROL_POLICY")
    policy = organizations.create_policy(
        Name="regions",
        Description="only EU regions",
        Type="SERVICE_CONTROL_POLICY",
        Content=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "NotAction": "iam:*",
                        "Resource": "*",
                        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
                    }
                ],
            }
        ),
    )["Policy"]["PolicySummary"]["Id"]
    unattached = collect_aws(OrganizationScps, session)
    assert {ok for _, ok in verdicts(scps_attached, unattached)} == {False}
    organizations.attach_policy(PolicyId=policy, TargetId=root)
    snapshot = collect_aws(OrganizationScps, session)
    assert {ok for _, ok in verdicts(scps_attached, snapshot)} == {True}
    assert "regions" in next(iter(scps_attached(snapshot))).message


def test_an_account_outside_any_organization_is_an_error(session) -> None:
    with pytest.raises(ClientError, match="AWSOrganizationsNotInUseException"):
        collect_aws(OrganizationScps, session)
