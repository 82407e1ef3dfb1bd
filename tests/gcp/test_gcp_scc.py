"""Security Command Center findings through the real SecurityCenterClient (v2, REST) against
recorded ListFindings pages (cloud.google.com/security-command-center/docs/reference/rest/v2/
organizations.sources.findings/list; enums as numbers, as the client asks with
enum-encoding=int)."""

from __future__ import annotations

import json

import pytest

from checks.gcp.scc import GcpSccFindings, threats_triaged, vulnerabilities_within_deadline
from checks.testing import verdicts
from collector.causes import describe_error
from collector.collect import Target
from collector.snapshots import SnapshotCache
from tests.gcp.conftest import anonymous_accounts
from tests.gcp.server import ORG, Route, error, recording

PROJECT = "projects/111111111111/sources"
FIRST_PAGE = Route(f"/v2/{ORG}/sources/-/findings")


def test_vulnerabilities_past_deadline_and_stale_threats_fail_across_pages(collect, api):
    findings = collect(GcpSccFindings)
    assert verdicts(vulnerabilities_within_deadline, findings) == {
        (f"{PROJECT}/4242/locations/global/findings/vuln-old-critical", False),  # 31 > 15 days
        (f"{PROJECT}/4242/locations/global/findings/vuln-new-high", True),  # 10 <= 30 days
    }
    assert verdicts(threats_triaged, findings) == {
        (f"{ORG}/sources/7777/locations/global/findings/threat-old", False),  # no canonicalName
        (f"{PROJECT}/7777/locations/global/findings/threat-new", True),
    }  # the muted threat was triaged
    asked = [q for p, q in api.requests if p.endswith("/findings")]
    assert [q.get("pageToken") for q in asked] == [None, ["c2NjLTI"]]
    assert 'state="ACTIVE"' in asked[0]["filter"][0]
    message = next(f.message for f in vulnerabilities_within_deadline(findings) if not f.passed)
    assert message.startswith("critical OS_VULNERABILITY CVE-2024-6387 on //compute")


def test_nothing_active_is_one_passing_verdict_for_the_scope(collect, api):
    api.routes[FIRST_PAGE] = [(200, {"totalSize": 0})]  # an empty page omits the list
    findings = collect(GcpSccFindings)
    assert verdicts(vulnerabilities_within_deadline, findings) == {(ORG, True)}
    assert verdicts(threats_triaged, findings) == {(ORG, True)}


def test_a_finding_without_its_create_time_is_an_error(collect, api):
    page = recording("org/scc_findings_2.json")
    del page["listFindingsResults"][1]["finding"]["createTime"]
    api.routes[FIRST_PAGE] = [(200, page)]
    with pytest.raises(KeyError, match="createTime"):
        collect(GcpSccFindings)


def test_denied_findings_name_the_permission(endpoint, api, registry):
    api.routes[FIRST_PAGE] = [error("denied_plain")]
    (account,) = anonymous_accounts(endpoint)
    cache = SnapshotCache(registry.collectors, account.make_scope)
    with pytest.raises(Exception) as caught:
        cache.get(GcpSccFindings, Target("gcp", ORG))
    assert "securitycenter.findings.list" in describe_error(caught.value)


def test_security_command_center_role_is_listed(annexa):
    code, out, _ = annexa("permissions", "gcp", "--check", "gcp.scc.threats_triaged")
    document = json.loads(out)
    assert code == 0 and document["permissions"] == ["securitycenter.findings.list"]
    assert document["also_roles"] == ["roles/securitycenter.findingsViewer"]
