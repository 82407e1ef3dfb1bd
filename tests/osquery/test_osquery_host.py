"""Endpoint checks on recorded hosts (macOS, Windows, Linux), the osqueryi subprocess, and
a host without osquery."""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path

import pytest

from checks.osquery import host as checks
from checks.osquery.models import (
    HostAdmins,
    HostAntimalware,
    HostDiskEncryption,
    HostFirewall,
    HostOs,
    HostScreenLock,
    HostTimeSync,
)
from checks.testing import findings, verdicts
from collector.collect import Target
from collector.os_support import default_minimums
from collector.osquery.host import resolve_accounts
from collector.osquery.runner import NOT_FOUND, OsqueryError, OsqueryiRunner
from collector.registry import load_registry
from collector.runner import Runner
from collector.settings import OsquerySettings
from collector.snapshots import SnapshotCache
from storage import EvidenceStore
from tests.osquery.recorded import RECORDINGS, RecordedRunner

REGISTRY = load_registry(entry_point_packs=False)
#: The minimums these recordings are judged by (the defaults move with os_support.yaml).
ENABLED = OsquerySettings(
    enabled=True,
    min_os_versions={"darwin": "14.0", "windows": "10.0.19045", "ubuntu": "22.04"},
    allowed_admins=["root", "ann", "Administrator", "itadmin"],
)
CASES = [  # check, snapshot, expected verdict per host ("error": cannot be judged there)
    (checks.disk_encrypted, HostDiskEncryption),
    (checks.screen_lock, HostScreenLock),
    (checks.firewall_enabled, HostFirewall),
    (checks.antimalware, HostAntimalware),
    (checks.os_up_to_date, HostOs),
    (checks.time_synced, HostTimeSync),
    (checks.local_admins_allowed, HostAdmins),
]
EXPECTED = {
    "darwin-current": (True, True, True, True, True, True, True),  # time from a profile
    "darwin-outdated": (False, False, False, False, False, False, False),
    # password right after the screen saver, but the screen saver never starts; Gatekeeper on,
    # but SIP off (XProtect can be disabled): both passed when only those were read
    "darwin-never-idle": (True, False, True, False, True, True, True),  # time from timed's plist
    "windows-managed": (True, True, True, True, True, True, True),
    # W32Time stopped although its type is NTP
    "windows-unmanaged": (False, False, False, False, False, False, False),
    "ubuntu-luks": (True, "error", "error", "error", True, True, False),
    "fedora-plain": (False, "error", "error", "error", "error", False, True),
}


def _cache(host: str, runner=None, settings=ENABLED) -> SnapshotCache:
    (account,) = resolve_accounts(
        settings, runner=runner or RecordedRunner(host), hostname=lambda: host
    )
    assert account.make_scope is not None
    return SnapshotCache(REGISTRY.collectors, account.make_scope)


@pytest.mark.parametrize("host", sorted(EXPECTED))
def test_every_check_on_recorded_hosts(host):
    cache = _cache(host)
    for (check, kind), expected in zip(CASES, EXPECTED[host], strict=True):
        snapshot = cache.get(kind, Target("osquery", host))
        if expected == "error":  # no minimum configured, or no osquery table on Linux
            with pytest.raises(LookupError, match=r"no minimum version|osquery exposes no"):
                verdicts(check, snapshot)
        else:
            assert verdicts(check, snapshot) == {(host, expected)}, check.__name__


def test_only_the_platforms_tables_are_queried_once_each():
    runner = RecordedRunner("windows-managed")
    cache = _cache("windows-managed", runner)
    for _, kind in CASES:
        cache.get(kind, Target("osquery", "windows-managed"))
    tables = [re.search(r"FROM (\w+)", s).group(1) for s in runner.statements]
    assert sorted(tables) == [
        "bitlocker_info",
        "os_version",
        "registry",
        "registry",  # the inactivity limit and W32Time's type
        "services",
        "user_groups",
        "windows_security_center",
        "windows_security_center",  # firewall and antivirus: one statement each
    ]


def test_messages_say_what_was_seen():
    cache = _cache("darwin-outdated")
    target = Target("osquery", "darwin-outdated")
    said = {
        check.__name__: findings(check, cache.get(kind, target))[0].message for check, kind in CASES
    }
    assert said == {
        "disk_encrypted": "disk_encryption (FileVault): /dev/disk1s1: FileVault off",
        "screen_lock": "screen saver after 1200 s (preferences), password after it on, grace "
        "period 300 s (limits: idle 900 s, grace 5 s)",
        "firewall_enabled": "firewall off (alf global_state 0)",
        "antimalware": "anti-malware off (XProtect no signature entries, SIP off)",
        "os_up_to_date": "macOS 13.6.7 < 14.0",
        "time_synced": "network time off (set time automatically off (plist), timed running)",
        "local_admins_allowed": "not allow-listed in admin: dev, guest-admin",
    }


def _run(accounts, tmp_path):
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'e.db'}") as store:
        result = Runner(REGISTRY, store).run(REGISTRY.select(provider="osquery"), accounts)
    return {r.check_id: (r.status, r.error) for r in result.records}


def test_never_idle_message():
    cache = _cache("darwin-never-idle")
    lock = cache.get(HostScreenLock, Target("osquery", "darwin-never-idle"))
    assert findings(checks.screen_lock, lock)[0].message == (
        "screen saver after unknown (preferences), password after it on, grace period 0 s "
        "(limits: idle 900 s, grace 5 s)"
    )


def _unexposed(what: str) -> tuple[str, str]:
    return (
        "error",
        f"NotExposed: osquery exposes no {what} state on linux: evidence it another way (a "
        "Fleet policy, MDM, or manual evidence)",
    )


def test_linux_run_records_errors_for_what_osquery_cannot_see(tmp_path):
    """No result is never a pass: what osquery cannot read on Linux is ERROR, not N/A."""
    accounts = resolve_accounts(
        ENABLED, runner=RecordedRunner("fedora-plain"), hostname=lambda: "fedora-plain"
    )
    assert _run(accounts, tmp_path) == {
        "osquery.host.antimalware": _unexposed("anti-malware"),
        "osquery.host.disk_encrypted": ("fail", None),
        "osquery.host.firewall_enabled": _unexposed("firewall"),
        "osquery.host.os_up_to_date": (
            "error",
            "LookupError: no minimum version configured for fedora "
            "(set osquery.min_os_versions.fedora)",
        ),
        "osquery.host.screen_lock": _unexposed("screen lock"),
        "osquery.host.time_synced": ("fail", None),
        "osquery.host.local_admins_allowed": ("pass", None),
    }


def test_without_osqueryi_every_check_is_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a real PATH with no osqueryi on it
    accounts = resolve_accounts(ENABLED, hostname=lambda: "laptop")
    assert [(a.account, a.error) for a in accounts] == [("laptop", NOT_FOUND)]
    assert set(_run(accounts, tmp_path).values()) == {("error", NOT_FOUND)}
    with pytest.raises(OsqueryError, match=r"^osqueryi not found: install osquery"):
        OsqueryiRunner()("SELECT 1;")


def test_disabled_by_default():
    assert resolve_accounts(OsquerySettings()) == []


def _fake_osqueryi(folder: Path, body: str) -> str:
    """An ``osqueryi`` on PATH: a Python script standing in for the binary's CLI."""
    script = folder / "osqueryi"
    script.write_text(f"#!{sys.executable}\nimport sys, time\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(folder)


def test_osqueryi_subprocess_json_and_failures(tmp_path, monkeypatch):
    recording = RECORDINGS / "ubuntu-luks" / "os_version.json"
    monkeypatch.setenv(
        "PATH",
        _fake_osqueryi(
            tmp_path,
            "assert sys.argv[1] == '--json'\n"
            "if 'alf' in sys.argv[2]:\n"
            "    sys.stderr.write('Error: no such table: alf\\n'); sys.exit(1)\n"
            "if 'sleep' in sys.argv[2]:\n"
            "    time.sleep(5)\n"
            f"print(open({str(recording)!r}).read())",
        )
        + os.pathsep
        + os.environ["PATH"],
    )
    runner = OsqueryiRunner(timeout=1.0)
    assert runner("SELECT name, version, platform FROM os_version;") == [
        {"name": "Ubuntu", "version": "22.04.4 LTS (Jammy Jellyfish)", "platform": "ubuntu"}
    ]
    with pytest.raises(OsqueryError, match=r"^osqueryi failed \(1\): Error: no such table: alf$"):
        runner("SELECT global_state FROM alf;")
    with pytest.raises(TimeoutError, match="osqueryi did not answer within 1 s"):
        runner("SELECT sleep FROM nowhere;")


def test_default_minimums_refuse_windows_10():
    """The defaults come from the dated support file: Windows 10 22H2 is out of support."""
    settings = OsquerySettings(enabled=True)
    assert settings.min_os_versions == default_minimums("osquery")
    cache = _cache("windows-unmanaged", settings=settings)
    host = cache.get(HostOs, Target("osquery", "windows-unmanaged"))
    assert host.minimum == default_minimums("osquery")["windows"]
    assert verdicts(checks.os_up_to_date, host.model_copy(update={"version": "10.0.19045"})) == {
        ("windows-unmanaged", False)
    }


def test_time_sync_messages_per_platform():
    said = {}
    for host in ("darwin-current", "windows-unmanaged", "ubuntu-luks", "fedora-plain"):
        sync = _cache(host).get(HostTimeSync, Target("osquery", host))
        said[host] = findings(checks.time_synced, sync)[0].message
    assert said == {
        "darwin-current": "network time on (set time automatically on (managed_policies), "
        "timed running)",
        "windows-unmanaged": "network time off (W32Time STOPPED, type NTP)",
        "ubuntu-luks": "network time on (systemd-timesyncd.service active)",
        "fedora-plain": "network time off (chronyd.service inactive)",
    }


def test_admins_judged_by_the_allow_list_case_insensitively():
    admins = _cache("windows-unmanaged").get(HostAdmins, Target("osquery", "windows-unmanaged"))
    assert admins.admins == ("Administrator", "bob")
    assert findings(checks.local_admins_allowed, admins)[0].message == (
        "not allow-listed in Administrators: bob"
    )
    relaxed = admins.model_copy(update={"allowed": ("administrator", "BOB")})
    assert findings(checks.local_admins_allowed, relaxed)[0].message == (
        "Administrators: Administrator, bob, all allow-listed"
    )


def test_admins_without_an_allow_list_is_an_error():
    settings = ENABLED.model_copy(update={"allowed_admins": None})
    admins = _cache("ubuntu-luks", settings=settings).get(
        HostAdmins, Target("osquery", "ubuntu-luks")
    )
    with pytest.raises(checks.NoAllowList, match=r"^osquery.allowed_admins is not configured"):
        verdicts(checks.local_admins_allowed, admins)
