"""``annexa permissions gcp|osquery`` and ``annexa run --provider osquery`` end to end."""

from __future__ import annotations

import json


def test_permissions_gcp_suggests_the_viewer_role(annexa):
    code, out, _ = annexa("permissions", "gcp")
    assert code == 0
    document = json.loads(out)
    assert document["role"] == "roles/cloudasset.viewer"
    assert document["permissions"] == [
        "cloudasset.assets.listIamPolicy",
        "cloudasset.assets.listOrgPolicy",
        "cloudasset.assets.listResource",
        "cloudasset.assets.searchAllIamPolicies",
        "cloudasset.assets.searchAllResources",
        "securitycenter.findings.list",
    ]


def test_permissions_for_one_gcp_check(annexa):
    code, out, _ = annexa("permissions", "gcp", "--check", "gcp.compute.default_network_absent")
    assert code == 0 and json.loads(out)["permissions"] == ["cloudasset.assets.searchAllResources"]


def test_permissions_osquery_lists_tables(annexa):
    code, out, _ = annexa("permissions", "osquery")
    assert code == 0
    assert json.loads(out)["tables"] == [
        "alf",
        "bitlocker_info",
        "disk_encryption",
        "groups",
        "managed_policies",
        "mounts",
        "os_version",
        "plist",
        "preferences",
        "processes",
        "registry",
        "screenlock",
        "services",
        "sip_config",
        "systemd_units",
        "user_groups",
        "users",
        "windows_security_center",
        "xprotect_meta",
    ]


def test_run_provider_osquery_audits_this_host_even_when_disabled(annexa, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no osqueryi here
    code, out, _ = annexa("run", "--provider", "osquery", "--format", "json")
    records = json.loads(out)
    assert code == 0, out
    assert "osqueryi not found: install osquery to audit this host" in json.dumps(records)
