"""ARM collector for Azure Backup job history (Recovery Services vaults, ``backupJobs``)."""

from __future__ import annotations

from datetime import timedelta

from checks.azure.backup import BackupJob, BackupJobs
from checks.azure.models import BackupProtectedItems
from collector.azure.arm import READER, properties
from collector.azure.compute import BACKUP_API
from collector.azure.errors import MalformedResponse
from collector.azure.scope import AzureScope
from collector.collect import collects

_TIME = "%Y-%m-%d %I:%M:%S %p"  # the $filter time format the Backup Jobs - List page shows


@collects(BackupJobs, permissions=[READER])
def backup_jobs(scope: AzureScope) -> BackupJobs:
    """Azure VM jobs of every vault, started within the longer of the backup and restore
    windows (one call per vault, every page)."""
    settings = scope.settings
    now = scope.now()
    days = max(settings.backup_window_days, settings.restore_test_days)
    window = (
        f"backupManagementType eq 'AzureIaasVM' and startTime eq "
        f"'{(now - timedelta(days=days)).strftime(_TIME)}' and endTime eq '{now.strftime(_TIME)}'"
    )
    jobs = []
    for vault in scope.get(BackupProtectedItems).vaults:
        listed = scope.api.list(
            f"{vault}/backupJobs",
            api_version=BACKUP_API,
            params={"$filter": window},
            requires=READER,
        )
        for item in listed:
            props = properties(item, "backup job")
            missing = [
                k
                for k in ("entityFriendlyName", "operation", "status", "startTime")
                if not props.get(k)
            ]
            if missing:
                raise MalformedResponse(
                    f"GET {vault}/backupJobs", f"{item['id']} has no {', '.join(missing)}"
                )
            jobs.append(
                BackupJob(
                    id=item["id"],
                    vault=vault,
                    entity=props["entityFriendlyName"],
                    operation=props["operation"],
                    status=props["status"],
                    started_at=props["startTime"],
                )
            )
    return BackupJobs(
        subscription=scope.subscription,
        collected_at=now,
        backup_window_days=settings.backup_window_days,
        restore_window_days=settings.restore_test_days,
        jobs=tuple(jobs),
    )
