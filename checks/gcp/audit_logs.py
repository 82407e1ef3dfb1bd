"""Cloud Audit Logs check: Data Access logs on for all services."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.gcp.models import AuditConfig, GcpAuditConfigs

DATA_ACCESS = ("DATA_READ", "DATA_WRITE")


def _missing(configs: list[AuditConfig]) -> list[str]:
    """Data-access log types not on for allServices, or on with exempted members."""
    enabled: dict[str, tuple[str, ...]] = {}
    for config in configs:
        if config.service == "allServices":
            for log_type, exempted in config.log_types.items():
                enabled[log_type] = enabled.get(log_type, ()) + exempted
    missing = [t for t in DATA_ACCESS if t not in enabled]
    exempt = [f"{t} exempts {', '.join(enabled[t])}" for t in DATA_ACCESS if enabled.get(t)]
    return missing + exempt


@check(
    id="gcp.logging.data_access_audit_logs",
    title="Data Access audit logs (read and write) are on for all services",
    severity="medium",
    interval="24h",
    remediation="Set auditConfigs for allServices with DATA_READ and DATA_WRITE (no exempted "
    "members) on the organisation, or on each project.",
)
def data_access_audit_logs(snapshot: GcpAuditConfigs) -> Iterator[Finding]:
    """One finding per project; configs set on its folders or organisation count when those
    are in the scope (audit with an organisation scope to see inherited settings)."""
    for holder in snapshot.holders:
        if not holder.name.startswith("projects/"):
            continue
        problems = _missing(snapshot.effective(holder))
        yield Finding(
            resource=holder.resource,
            passed=not problems,
            message=f"not logged: {'; '.join(problems)}"
            if problems
            else "DATA_READ and DATA_WRITE on for allServices",
        )
