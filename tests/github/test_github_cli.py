"""``annexa permissions github`` prints the exact read-only App permissions and token scopes."""

from __future__ import annotations

import json


def test_permissions_github(annexa):
    code, out, _ = annexa("permissions", "github")
    assert code == 0
    document = json.loads(out)
    assert document["github_app"]["organization_permissions"] == {
        "administration": "read",
        "members": "read",
    }
    assert document["github_app"]["repository_permissions"] == {
        "actions": "read",
        "administration": "read",
        "dependabot_alerts": "read",
        "metadata": "read",
        "security_events": "read",
    }
    assert document["classic_token_scopes"] == [
        "read:audit_log",
        "read:org",
        "repo",
        "security_events",
    ]


def test_permissions_for_one_github_check(annexa):
    code, out, _ = annexa("permissions", "github", "--check", "github.repos.deploy_keys_read_only")
    assert code == 0
    document = json.loads(out)
    assert document["github_app"]["repository_permissions"] == {"administration": "read"}
    assert document["github_app"]["organization_permissions"] == {}
    assert document["classic_token_scopes"] == ["repo"]


def test_development_and_leaver_controls_have_automated_evidence(annexa):
    code, out, _ = annexa("controls", "--automated", "--format", "json")
    assert code == 0
    rows = {r["control"]: set(r["checks"]) for r in json.loads(out)}
    assert "github.repos.default_branch_reviewed" in rows["A.8.4"] & rows["A.8.32"]
    assert "github.repos.status_checks_required" in rows["A.8.25"]
    assert "github.code_scanning.alerts_within_deadline" in rows["A.8.28"]
    assert rows["A.6.5"] == {"identity.leavers.deprovisioned"}
    assert "github.repos.last_push_approval" in rows["A.5.3"]
    assert "github.repos.dependabot_security_updates" in rows["A.5.21"]
    assert "github.environments.production_protected" in rows["A.8.31"]
