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
    HostAntimalware,
    HostDiskEncryption,
    HostFirewall,
    HostOs,
    HostScreenLock,
)
from checks.testing import findings, verdicts
from collector.collect import Target
from collector.osquery.host import resolve_accounts
from collector.osquery.runner import NOT_FOUND, OsqueryError, OsqueryiRunner
from collector.registry import load_registry
from collector.runner import Runner
from collector.settings import OsquerySettings
from collector.snapshots import SnapshotCache
from storage import EvidenceStore
from tests.osquery.recorded import RECORDINGS, RecordedRunner

REGISTRY = load_registry(entry_point_packs=False)
ENABLED = OsquerySettings(enabled=True)
CASES = [  # check, snapshot, expected verdicts per host (None: not judged on that platform)
    (checks.disk_encrypted, HostDiskEncryption),
    (checks.screen_lock, HostScreenLock),
    (checks.firewall_enabled, HostFirewall),
    (checks.antimalware, HostAntimalware),
    (checks.os_up_to_date, HostOs),
]
EXPECTED = {
    "darwin-current": (True, True, True, True, True),
    "darwin-outdated": (False, False, False, False, False),
    "windows-managed": (True, True, True, True, True),
    "windows-unmanaged": (False, False, False, False, False),
    "ubuntu-luks": (True, None, None, None, True),
    "fedora-plain": (False, None, None, None, "error"),
}


def _cache(host: str, runner=None) -> SnapshotCache:
    (account,) = resolve_accounts(
        ENABLED, runner=runner or RecordedRunner(host), hostname=lambda: host
    )
    assert account.make_scope is not None
    return SnapshotCache(REGISTRY.collectors, account.make_scope)


@pytest.mark.parametrize("host", sorted(EXPECTED))
def test_every_check_on_recorded_hosts(host):
    cache = _cache(host)
    for (check, kind), expected in zip(CASES, EXPECTED[host], strict=True):
        snapshot = cache.get(kind, Target("osquery", host))
        if expected == "error":
            with pytest.raises(LookupError, match="no minimum version configured for fedora"):
                verdicts(check, snapshot)
        elif expected is None:
            assert verdicts(check, snapshot) == set(), check.__name__
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
        "screen_lock": "password after screen saver on, grace period 300 s (limit 5 s)",
        "firewall_enabled": "firewall off (alf global_state 0)",
        "antimalware": "anti-malware off (Gatekeeper assessments_enabled 0)",
        "os_up_to_date": "macOS 13.6.7 < 14.0",
    }


def _run(accounts, tmp_path):
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'e.db'}") as store:
        result = Runner(REGISTRY, store).run(REGISTRY.select(provider="osquery"), accounts)
    return {r.check_id: (r.status, r.error) for r in result.records}


def test_linux_run_records_not_applicable_and_error(tmp_path):
    accounts = resolve_accounts(
        ENABLED, runner=RecordedRunner("fedora-plain"), hostname=lambda: "fedora-plain"
    )
    assert _run(accounts, tmp_path) == {
        "osquery.host.antimalware": ("not_applicable", None),
        "osquery.host.disk_encrypted": ("fail", None),
        "osquery.host.firewall_enabled": ("not_applicable", None),
        "osquery.host.os_up_to_date": (
            "error",
            "LookupError: no minimum version configured for fedora "
            "(set osquery.min_os_versions.fedora)",
        ),
        "osquery.host.screen_lock": ("not_applicable", None),
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
