"""Azure Backup checks on job history: protected VMs back up successfully, restores are tested."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from pydantic import AwareDatetime

from checks.api import Finding, SnapshotPart, check
from checks.azure.compute import PROTECTED_STATES
from checks.azure.models import BackupProtectedItems, _AzureSnapshot

#: Job states that produced a recovery point (warnings: some files or disks were skipped).
SUCCEEDED = frozenset({"Completed", "CompletedWithWarnings"})


class BackupJob(SnapshotPart):
    """One Recovery Services vault job: what it ran on, which operation, its status and start."""

    id: str
    vault: str
    entity: str  # entityFriendlyName: the protected item's friendlyName
    operation: str  # Backup, Restore, ConfigureBackup, DeleteBackupData, ...
    status: str  # Completed, CompletedWithWarnings, Failed, InProgress, Cancelled, ...
    started_at: AwareDatetime


class BackupJobs(_AzureSnapshot):
    """The subscription's Azure VM backup jobs started within the longer of the two windows."""

    resource_noun: ClassVar[str] = "backup jobs"
    subscription: str
    collected_at: AwareDatetime
    backup_window_days: int
    restore_window_days: int
    jobs: tuple[BackupJob, ...]


@check(
    id="azure.backup.jobs_succeeded",
    title="Protected VMs completed a backup job within the backup window",
    severity="high",
    interval="24h",
    remediation="Investigate the failed or missing job in the Recovery Services vault (Backup "
    "jobs); fix the VM's agent, policy or vault so a backup completes within "
    "azure.backup_window_days.",
)
def jobs_succeeded(items: BackupProtectedItems, history: BackupJobs) -> Iterator[Finding]:
    """Per VM under active protection, its newest Backup job in the window must have completed
    (with warnings counts: a recovery point exists); no job in the window fails."""
    since = history.collected_at.timestamp() - history.backup_window_days * 86400
    newest: dict[tuple[str, str], BackupJob] = {}
    for job in sorted(history.jobs, key=lambda j: j.started_at):
        if job.operation == "Backup" and job.started_at.timestamp() >= since:
            newest[(job.vault.lower(), job.entity.lower())] = job
    window = f"the last {history.backup_window_days} days"
    for item in items.items:
        if item.state not in PROTECTED_STATES:
            continue  # azure.backup.vms_protected judges stopped protection
        name = item.name or item.source_id.rsplit("/", 1)[-1]
        job = newest.get((item.vault.lower(), name.lower()))
        if job is None:
            yield Finding(
                resource=item.source_id, passed=False, message=f"no backup job in {window}"
            )
            continue
        yield Finding(
            resource=item.source_id,
            passed=job.status in SUCCEEDED,
            message=f"newest backup job ({job.started_at.date()}) is {job.status}",
        )


@check(
    id="azure.backup.restore_tested",
    title="A restore from Azure Backup completed within the restore-test period",
    severity="medium",
    interval="24h",
    remediation="Restore a recovery point on a schedule (to a test VM or disks) and keep the "
    "evidence; within azure.restore_test_days.",
)
def restore_tested(items: BackupProtectedItems, history: BackupJobs) -> Iterator[Finding]:
    """One finding per subscription that protects VMs: a Restore job completed in the window."""
    if not items.items:
        return
    done = [j for j in history.jobs if j.operation == "Restore" and j.status in SUCCEEDED]
    window = f"the last {history.restore_window_days} days"
    if done:
        latest = max(done, key=lambda j: j.started_at)
        message = f"{len(done)} completed restores in {window}, newest {latest.started_at.date()}"
    else:
        tried = sum(1 for j in history.jobs if j.operation == "Restore")
        message = f"no completed restore in {window} ({tried} restore jobs tried)"
    yield Finding(resource=history.subscription, passed=bool(done), message=message)
