"""The local host as an account, and its collectors: one osquery statement per snapshot.

Tables per platform (osquery ``platform`` darwin and windows; any other platform is Linux):

- HostOs: ``os_version`` everywhere.
- HostDiskEncryption: macOS ``disk_encryption`` (FileVault status of user volumes); Windows
  ``bitlocker_info`` (C:); Linux ``mounts`` joined with ``disk_encryption`` for ``/`` (LUKS).
- HostScreenLock: macOS ``managed_policies`` / ``preferences`` (screen saver idleTime) and
  ``screenlock`` (password delay); Windows ``registry`` (InactivityTimeoutSecs policy); Linux:
  not exposed.
- HostFirewall: macOS ``alf``; Windows ``windows_security_center``; Linux: not exposed.
- HostAntimalware: macOS ``sip_config`` and ``xprotect_meta`` (XProtect); Windows
  ``windows_security_center``; Linux: not exposed.
- HostTimeSync: macOS ``managed_policies`` / ``plist`` (TMAutomaticTimeOnlyEnabled) and
  ``processes`` (timed); Windows ``services`` (W32Time) and ``registry`` (its sync type);
  Linux ``systemd_units`` (timesyncd, chrony, ntpd).
- HostAdmins: ``user_groups`` joined with ``users`` and ``groups`` (admin, Administrators,
  sudo/wheel).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from checks.api import Snapshot
from checks.osquery.models import (
    DiskVolume,
    HostAdmins,
    HostAntimalware,
    HostDiskEncryption,
    HostFirewall,
    HostOs,
    HostScreenLock,
    HostTimeSync,
)
from collector.accounts import Account
from collector.collect import Target, collects
from collector.osquery.runner import NOT_FOUND, OsqueryError, OsqueryiRunner, QueryRunner
from collector.settings import OsquerySettings, Settings

if TYPE_CHECKING:
    from collector.snapshots import SnapshotCache

S = TypeVar("S", bound=Snapshot)

OS_VERSION = "SELECT name, version, platform FROM os_version;"
FILEVAULT = (
    "SELECT name, encrypted, type, filevault_status FROM disk_encryption WHERE user_uuid != '';"
)
BITLOCKER = (
    "SELECT drive_letter, protection_status, encryption_method FROM bitlocker_info "
    "WHERE drive_letter = 'C:';"
)
LUKS = (
    "SELECT de.name, de.encrypted, de.type FROM mounts m JOIN disk_encryption de "
    "ON m.device_alias = de.name WHERE m.path = '/';"
)
SCREENLOCK = "SELECT enabled, grace_period FROM screenlock;"
INACTIVITY_KEY = (
    r"HKEY_LOCAL_MACHINE\Software\Microsoft\Windows\CurrentVersion\Policies\System"
    r"\InactivityTimeoutSecs"
)
INACTIVITY = f"SELECT data FROM registry WHERE path = '{INACTIVITY_KEY}';"
ALF = "SELECT global_state FROM alf;"
SECURITY_CENTER = "SELECT firewall, antivirus FROM windows_security_center;"
IDLE_MANAGED = (
    "SELECT value FROM managed_policies WHERE domain = 'com.apple.screensaver' "
    "AND name = 'idleTime';"
)
IDLE_PREFERENCE = (
    "SELECT value FROM preferences WHERE domain = 'com.apple.screensaver' AND key = 'idleTime';"
)
SIP = "SELECT enabled FROM sip_config WHERE config_flag = 'sip';"
XPROTECT = "SELECT COUNT(*) AS signatures FROM xprotect_meta;"
TIMED_PLIST = "/private/var/db/timed/Library/Preferences/com.apple.timed.plist"
AUTO_TIME_MANAGED = (
    "SELECT value FROM managed_policies WHERE domain = 'com.apple.timed' "
    "AND name = 'TMAutomaticTimeOnlyEnabled';"
)
AUTO_TIME = (
    f"SELECT value FROM plist WHERE path = '{TIMED_PLIST}' AND key = 'TMAutomaticTimeOnlyEnabled';"
)
TIMED = "SELECT pid FROM processes WHERE name = 'timed';"
W32TIME = "SELECT status, start_type FROM services WHERE name = 'W32Time';"
W32TIME_TYPE_KEY = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Services\W32Time\Parameters\Type"
W32TIME_TYPE = f"SELECT data FROM registry WHERE path = '{W32TIME_TYPE_KEY}';"
#: systemd units of the time sync daemons Linux distributions ship.
TIME_UNITS = (
    "systemd-timesyncd.service",
    "chronyd.service",
    "chrony.service",
    "ntpd.service",
    "ntp.service",
    "ntpsec.service",
    "openntpd.service",
)
SYSTEMD_TIME = (
    "SELECT id, active_state FROM systemd_units WHERE id IN "
    f"({', '.join(repr(u) for u in TIME_UNITS)});"
)
#: The administrators group per platform: macOS admin (gid 80), Windows the builtin
#: Administrators (SID S-1-5-32-544, whatever the locale names it), Linux sudo/wheel/admin.
ADMIN_GROUPS = {
    "darwin": ("g.groupname = 'admin'", ("admin",)),
    "windows": ("g.group_sid = 'S-1-5-32-544'", ("Administrators",)),
    "linux": ("g.groupname IN ('sudo', 'wheel', 'admin')", ("sudo", "wheel", "admin")),
}
ADMINS = (
    "SELECT u.username, g.groupname FROM user_groups ug JOIN users u ON u.uid = ug.uid "
    "JOIN groups g ON g.gid = ug.gid WHERE {where};"
)


class OsqueryScope:
    """The local host: ``query`` runs one statement; ``family`` is darwin, windows or linux."""

    def __init__(
        self,
        target: Target,
        runner: QueryRunner,
        cache: SnapshotCache,
        *,
        settings: OsquerySettings,
    ) -> None:
        self.target = target
        self.runner = runner
        self.settings = settings
        self._cache = cache

    def get(self, kind: type[S]) -> S:
        return self._cache.get(kind, self.target)

    def query(self, sql: str) -> list[dict[str, Any]]:
        return self.runner(sql)

    def host(self) -> dict[str, str]:
        """``hostname`` and ``family`` for every host snapshot."""
        os = self.get(HostOs)
        return {"hostname": os.hostname, "family": os.family}


def osquery_accounts(settings: Settings) -> list[Account]:
    """Provider hook for ``osquery``: this machine, when enabled."""
    return resolve_accounts(settings.osquery)


def resolve_accounts(
    settings: OsquerySettings,
    *,
    runner: QueryRunner | None = None,
    hostname: Callable[[], str] = socket.gethostname,
) -> list[Account]:
    """The local host as one account; without osqueryi its checks are ERROR, never pass."""
    if not settings.enabled:
        return []
    host = hostname()
    if runner is None:
        default = OsqueryiRunner(settings.osqueryi, timeout=settings.timeout)
        try:
            default.locate()
        except OsqueryError:
            return [Account("osquery", host, error=NOT_FOUND)]
        runner = default
    chosen: QueryRunner = runner

    def make_scope(target: Target, cache: SnapshotCache) -> OsqueryScope:
        return OsqueryScope(target, chosen, cache, settings=settings)

    return [Account("osquery", host, make_scope=make_scope)]


def _family(platform: str) -> str:
    return platform if platform in ("darwin", "windows") else "linux"


def _one(rows: list[dict[str, Any]], source: str) -> dict[str, Any]:
    if not rows:
        return {}
    if len(rows) > 1:
        raise OsqueryError(f"{source}: expected one row, got {len(rows)}")
    return rows[0]


@collects(HostOs, permissions=["osquery:os_version"])
def host_os(scope: OsqueryScope) -> HostOs:
    row = _one(scope.query(OS_VERSION), "os_version")
    if not row:
        raise OsqueryError("os_version returned no row")
    platform = row["platform"]
    return HostOs(
        hostname=scope.target.account,
        family=_family(platform),
        platform=platform,
        name=row["name"],
        version=row["version"],
        minimum=scope.settings.min_os_versions.get(platform),
    )


@collects(
    HostDiskEncryption,
    permissions=[
        "osquery:os_version",
        "osquery:disk_encryption",
        "osquery:mounts",
        "osquery:bitlocker_info",
    ],
)
def disk_encryption(scope: OsqueryScope) -> HostDiskEncryption:
    host = scope.host()
    if host["family"] == "darwin":
        source = "disk_encryption (FileVault)"
        volumes = [
            DiskVolume(
                name=r["name"],
                encrypted=r["filevault_status"] == "on",
                detail=f"FileVault {r['filevault_status']}",
            )
            for r in scope.query(FILEVAULT)
        ]
    elif host["family"] == "windows":
        source = "bitlocker_info"
        volumes = [
            DiskVolume(
                name=r["drive_letter"],
                encrypted=r["protection_status"] == "1",
                detail=f"protection_status {r['protection_status']}, "
                f"{r['encryption_method'] or 'no encryption method'}",
            )
            for r in scope.query(BITLOCKER)
        ]
    else:
        source = "mounts + disk_encryption (/)"
        volumes = [
            DiskVolume(
                name=r["name"],
                encrypted=r["encrypted"] == "1",
                detail=r["type"] or "not encrypted",
            )
            for r in scope.query(LUKS)
        ]
    return HostDiskEncryption(**host, source=source, volumes=tuple(volumes))


@collects(
    HostScreenLock,
    permissions=[
        "osquery:os_version",
        "osquery:screenlock",
        "osquery:managed_policies",
        "osquery:preferences",
        "osquery:registry",
    ],
)
def screen_lock(scope: OsqueryScope) -> HostScreenLock:
    host = scope.host()
    limits = {
        "max_idle_seconds": scope.settings.max_idle_seconds,
        "max_grace_seconds": scope.settings.max_grace_seconds,
    }
    if host["family"] == "darwin":
        row = _one(scope.query(SCREENLOCK), "screenlock")
        enabled = row.get("enabled") == "1"
        grace = _seconds(row.get("grace_period"))
        idle, where = _mac_idle(scope)
        return HostScreenLock(
            **host,
            supported=True,
            source=f"{where}, screenlock",
            enabled=enabled and grace is not None,
            detail=f"screen saver after {_said(idle)} ({where}), password after it "
            f"{'on' if enabled else 'off'}, grace period {_said(grace)}",
            idle_seconds=idle,
            grace_seconds=grace if grace is not None else 0,
            **limits,
        )
    if host["family"] == "windows":
        row = _one(scope.query(INACTIVITY), "registry")
        limit = _seconds(row.get("data"))
        return HostScreenLock(
            **host,
            supported=True,
            source="registry",
            enabled=bool(limit),  # 0 or unset: the machine never locks on inactivity
            detail=f"InactivityTimeoutSecs {limit if limit is not None else 'unset'}",
            idle_seconds=limit,
            grace_seconds=0,
            **limits,
        )
    return HostScreenLock(
        **host,
        supported=False,
        source="",
        enabled=False,
        detail="not exposed on linux",
        idle_seconds=None,
        grace_seconds=0,
        **limits,
    )


def _seconds(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _said(seconds: int | None) -> str:
    return "unknown" if seconds is None else f"{seconds} s"


def _mac_idle(scope: OsqueryScope) -> tuple[int | None, str]:
    """The screen saver's idle time: a configuration profile's wins over the user's own;
    0 means never."""
    for sql, source in ((IDLE_MANAGED, "managed_policies"), (IDLE_PREFERENCE, "preferences")):
        values = [_seconds(r.get("value")) for r in scope.query(sql)]
        found = [v for v in values if v is not None]
        if found:
            idle = max(found)
            return (None if idle == 0 else idle), source
    return None, "idleTime not set"


_UNSUPPORTED = {"supported": False, "source": "", "enabled": False, "detail": "not exposed"}


def _security_center(scope: OsqueryScope, column: str) -> dict[str, Any]:
    """A ``windows_security_center`` column: Good means on (Windows Server has no row)."""
    state = _one(scope.query(SECURITY_CENTER), "windows_security_center").get(column)
    return {
        "supported": True,
        "source": "windows_security_center",
        "enabled": state == "Good",
        "detail": f"{column} {state or 'not reported'}",
    }


@collects(
    HostFirewall,
    permissions=["osquery:os_version", "osquery:alf", "osquery:windows_security_center"],
)
def firewall(scope: OsqueryScope) -> HostFirewall:
    host = scope.host()
    if host["family"] == "windows":
        return HostFirewall(**host, **_security_center(scope, "firewall"))
    if host["family"] == "darwin":
        state = _one(scope.query(ALF), "alf").get("global_state")
        return HostFirewall(
            **host,
            supported=True,
            source="alf",
            enabled=state in ("1", "2"),  # 1: on, 2: block all incoming
            detail=f"alf global_state {state if state is not None else 'not reported'}",
        )
    return HostFirewall(**host, **_UNSUPPORTED)


@collects(
    HostAntimalware,
    permissions=[
        "osquery:os_version",
        "osquery:sip_config",
        "osquery:xprotect_meta",
        "osquery:windows_security_center",
    ],
)
def antimalware(scope: OsqueryScope) -> HostAntimalware:
    host = scope.host()
    if host["family"] == "windows":
        return HostAntimalware(**host, **_security_center(scope, "antivirus"))
    if host["family"] == "darwin":
        sip = _one(scope.query(SIP), "sip_config").get("enabled")
        signatures = _seconds(_one(scope.query(XPROTECT), "xprotect_meta").get("signatures"))
        return HostAntimalware(
            **host,
            supported=True,
            source="sip_config, xprotect_meta",
            enabled=sip == "1" and bool(signatures),
            detail=f"XProtect {signatures or 'no'} signature entries, SIP "
            f"{ {'1': 'on', '0': 'off'}.get(str(sip), 'unknown') }",
        )
    return HostAntimalware(**host, **_UNSUPPORTED)


def _enabled(value: Any) -> bool | None:
    """A plist or profile boolean as osquery prints it ("1"/"0", "true"/"false")."""
    said = str(value).strip().lower() if value is not None else ""
    return {"1": True, "true": True, "0": False, "false": False}.get(said)


def _automatic_time(scope: OsqueryScope) -> tuple[bool, str]:
    """ "Set time automatically": a profile's setting wins over timed's own; unset is off."""
    for sql, source in ((AUTO_TIME_MANAGED, "managed_policies"), (AUTO_TIME, "plist")):
        values = [_enabled(r.get("value")) for r in scope.query(sql)]
        if any(v is not None for v in values):
            return all(v is not False for v in values), source
    return False, "TMAutomaticTimeOnlyEnabled not set"


def _mac_time(scope: OsqueryScope) -> dict[str, Any]:
    automatic, where = _automatic_time(scope)
    running = bool(scope.query(TIMED))
    return {
        "supported": True,
        "source": f"{where}, processes",
        "enabled": automatic and running,
        "detail": f"set time automatically {'on' if automatic else 'off'} ({where}), timed "
        f"{'running' if running else 'not running'}",
    }


def _windows_time(scope: OsqueryScope) -> dict[str, Any]:
    service = _one(scope.query(W32TIME), "services")
    kind = _one(scope.query(W32TIME_TYPE), "registry").get("data")
    status = service.get("status") or "not installed"
    syncing = kind not in (None, "", "NoSync")
    return {
        "supported": True,
        "source": "services, registry",
        "enabled": status == "RUNNING" and syncing,
        "detail": f"W32Time {status}, type {kind or 'unset'}",
    }


def _linux_time(scope: OsqueryScope) -> dict[str, Any]:
    units = {r["id"]: r.get("active_state") for r in scope.query(SYSTEMD_TIME)}
    active = sorted(u for u, state in units.items() if state == "active")
    seen = ", ".join(f"{u} {units[u]}" for u in sorted(units)) or "no time sync unit"
    return {
        "supported": True,
        "source": "systemd_units",
        "enabled": bool(active),
        "detail": seen,
    }


@collects(
    HostTimeSync,
    permissions=[
        "osquery:os_version",
        "osquery:managed_policies",
        "osquery:plist",
        "osquery:processes",
        "osquery:services",
        "osquery:registry",
        "osquery:systemd_units",
    ],
)
def time_sync(scope: OsqueryScope) -> HostTimeSync:
    host = scope.host()
    read = {"darwin": _mac_time, "windows": _windows_time}.get(host["family"], _linux_time)
    return HostTimeSync(**host, **read(scope))


@collects(
    HostAdmins,
    permissions=["osquery:os_version", "osquery:user_groups", "osquery:users", "osquery:groups"],
)
def admins(scope: OsqueryScope) -> HostAdmins:
    host = scope.host()
    where, groups = ADMIN_GROUPS[host["family"]]
    rows = scope.query(ADMINS.format(where=where))
    allowed = scope.settings.allowed_admins
    return HostAdmins(
        **host,
        groups=groups,
        admins=tuple(sorted({r["username"] for r in rows})),
        allowed=tuple(allowed) if allowed is not None else None,
    )
