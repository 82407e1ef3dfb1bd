"""AWS Backup collector: plans, and the backup and restore jobs created inside the windows."""

from __future__ import annotations

from datetime import timedelta

from checks.aws.backup import BackupActivity, BackupJob
from collector.aws.paging import pages
from collector.aws.scope import AwsScope
from collector.clock import utcnow
from collector.collect import collects


@collects(
    BackupActivity,
    permissions=["backup:ListBackupPlans", "backup:ListBackupJobs", "backup:ListRestoreJobs"],
    scope="region",
)
def backup_activity(scope: AwsScope) -> BackupActivity:
    """Job lists are read whole (every page), filtered server-side by creation time."""
    backup, now = scope.client("backup"), utcnow()
    settings = scope.settings
    plans = tuple(p["BackupPlanArn"] for p in pages(backup, "list_backup_plans", "BackupPlansList"))
    since = now - timedelta(days=settings.backup_window_days)
    backups = tuple(
        BackupJob(
            job_id=j["BackupJobId"],
            resource_arn=j["ResourceArn"],
            state=j["State"],
            created_at=j["CreationDate"],
        )
        for j in pages(backup, "list_backup_jobs", "BackupJobs", ByCreatedAfter=since)
    )
    restore_since = now - timedelta(days=settings.restore_test_days)
    restores = tuple(
        BackupJob(
            job_id=j["RestoreJobId"],
            resource_arn=j.get("CreatedResourceArn") or j.get("RecoveryPointArn", ""),
            state=j["Status"],
            created_at=j["CreationDate"],
        )
        for j in pages(backup, "list_restore_jobs", "RestoreJobs", ByCreatedAfter=restore_since)
    )
    return BackupActivity(
        region=scope.region,
        arn=scope.arn("backup", "backup-activity", region=scope.region),
        collected_at=now,
        plans=plans,
        backup_window_days=settings.backup_window_days,
        restore_window_days=settings.restore_test_days,
        backup_jobs=backups,
        restore_jobs=restores,
    )
