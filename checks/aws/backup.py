"""AWS Backup checks: backups run and succeed, and restores are tested (judged on job history)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class BackupJob(SnapshotPart):
    """One backup or restore job: what it protected (or created), its state and when."""

    job_id: str
    resource_arn: str
    state: str  # CREATED, PENDING, RUNNING, ABORTING, ABORTED, COMPLETED, FAILED, EXPIRED, ...
    created_at: AwareDatetime


class BackupActivity(_AwsSnapshot):
    """One region's AWS Backup plans and the backup and restore jobs created in the windows."""

    resource_noun: ClassVar[str] = "backup plans"

    region: str
    arn: str  # arn:aws:backup:<region>:<account>:backup-activity (annexa's convention)
    collected_at: AwareDatetime
    plans: tuple[str, ...]  # backup plan ARNs
    backup_window_days: int
    restore_window_days: int
    backup_jobs: tuple[BackupJob, ...]  # created within backup_window_days
    restore_jobs: tuple[BackupJob, ...]  # created within restore_window_days

    def __len__(self) -> int:
        return len(self.plans) + len(self.backup_jobs)


@check(
    id="aws.backup.jobs_succeeded",
    title="AWS Backup jobs ran and completed within the backup window",
    severity="high",
    interval="24h",
    remediation="Investigate failed or missing jobs in AWS Backup (aws backup list-backup-jobs "
    "--by-state FAILED); fix the plan's selection, role or vault so every protected resource "
    "completes a backup within aws.backup_window_days.",
)
def jobs_succeeded(activity: BackupActivity) -> Iterator[Finding]:
    """Per protected resource, its newest job in the window must be COMPLETED; plans that ran
    no job at all in the window fail on the region."""
    newest: dict[str, BackupJob] = {}
    for job in sorted(activity.backup_jobs, key=lambda j: j.created_at):
        newest[job.resource_arn] = job
    window = f"the last {activity.backup_window_days} days"
    if activity.plans and not newest:
        yield Finding(
            resource=activity.arn,
            passed=False,
            message=f"{len(activity.plans)} backup plans but no backup job in {window}",
        )
    for resource, job in sorted(newest.items()):
        yield Finding(
            resource=resource,
            passed=job.state == "COMPLETED",
            message=f"newest backup job {job.job_id} ({job.created_at.date()}) is {job.state}",
        )


@check(
    id="aws.backup.restore_tested",
    title="A restore from AWS Backup completed within the restore-test period",
    severity="medium",
    interval="24h",
    remediation="Restore a recovery point on a schedule (AWS Backup restore testing plans, or "
    "aws backup start-restore-job) and keep the evidence; within aws.restore_test_days.",
)
def restore_tested(activity: BackupActivity) -> Iterator[Finding]:
    """One finding per region that takes backups: a COMPLETED restore job in the window."""
    if not activity.plans and not activity.backup_jobs:
        return
    done = [j for j in activity.restore_jobs if j.state == "COMPLETED"]
    window = f"the last {activity.restore_window_days} days"
    if done:
        latest = max(done, key=lambda j: j.created_at)
        message = f"{len(done)} completed restores in {window}, newest {latest.created_at.date()}"
    else:
        tried = len(activity.restore_jobs)
        message = f"no completed restore in {window} ({tried} restore jobs tried)"
    yield Finding(resource=activity.arn, passed=bool(done), message=message)
