"""The console in process (Starlette's test client over a real store): pages, the same status
as the CLI, roles, tokens, CSRF, security headers and the loopback rule."""

from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from collector.errors import UserError
from collector.settings import load_settings
from collector.web.app import create_app
from collector.web.auth import check_bind
from tests.web.conftest import FAILING, NOW, TOKENS, csrf_of, seed, write_config


def client(settings, host: str = "127.0.0.1") -> TestClient:
    return TestClient(create_app(settings, host=host, clock=lambda: NOW), follow_redirects=False)


def bearer(role: str) -> dict[str, str]:
    return {"authorization": f"Bearer {TOKENS[role]}"}


@pytest.mark.postgres
def test_pages_show_the_cli_status_and_the_failing_resource(estate, annexa) -> None:
    settings, checks = estate
    with client(settings) as c:
        controls = c.get("/controls?format=json", headers=bearer("viewer"))
        assert controls.status_code == 200
        rows = {r["control"]: r for r in controls.json()}
        assert rows["A.8.3"]["state"] == "failing" and rows["A.7.5"]["state"] == "not_applicable"
        page = c.get("/controls/A.8.3", headers=bearer("viewer"))
        assert page.status_code == 200
        assert FAILING in page.text and "Data Protection Lead" in page.text
        assert (
            "https://console.aws.amazon.com/go/view?arn=arn%3Aaws%3As3%3A%3A%3Apublic-bucket"
            in page.text
        )
        for check_id in checks:
            assert f'href="/checks/{check_id}"' in page.text
        assert "sufficient" in page.text or "supporting" in page.text
        failing_only = c.get("/controls?state=failing", headers=bearer("viewer")).text
        assert "/controls/A.8.3" in failing_only and "/controls/A.7.5" not in failing_only
        assert c.get("/controls?q=data+leakage", headers=bearer("viewer")).status_code == 200
        record_id = int(page.text.split('href="/records/')[1].split('"')[0])
        record = c.get(f"/records/{record_id}", headers=bearer("viewer"))
        assert "Seal verified" in record.text
        assert c.get("/checks/" + checks[0], headers=bearer("viewer")).status_code == 200
        assert c.get("/runs", headers=bearer("viewer")).text.count("complete") == 3
        overview = c.get("/", headers=bearer("viewer"))
        assert overview.status_code == 200 and "<svg" in overview.text
        assert c.get("/controls/A.99.1", headers=bearer("viewer")).status_code == 404
        assert c.get("/controls/A.8.3?at=not-a-date", headers=bearer("viewer")).status_code == 400


def test_the_status_at_a_past_instant_is_the_cli_status_at_that_instant(tmp_path, sqlite_url):
    config = write_config(tmp_path, sqlite_url)
    seed(sqlite_url, config)
    settings = load_settings(config)
    with client(settings) as c:
        past = c.get("/controls?format=json&at=2026-06-13", headers=bearer("viewer")).json()
    from collector.app import load_workspace
    from collector.audit import parse_instant, statuses_at
    from collector.report import status_rows
    from collector.soa import load_soa
    from storage import EvidenceStore

    workspace = load_workspace(settings)
    with EvidenceStore.open(sqlite_url) as store:
        expected = status_rows(
            statuses_at(
                workspace,
                store,
                load_soa(settings.soa, workspace.catalogue),
                parse_instant("2026-06-13", "at", end_of_day=True),
            )
        )
    assert past == json.loads(json.dumps(expected))


def test_roles_viewer_reads_editor_writes_auditor_limited(tmp_path, sqlite_url) -> None:
    config = write_config(tmp_path, sqlite_url, anonymous_role=None)
    checks = seed(sqlite_url, config)
    settings = load_settings(config)
    form = {
        "check": checks[0],
        "resource": FAILING,
        "reason": "public by design",
        "approved_by": "cto",
        "expires": "2026-12-31",
        "back": "/controls/A.8.3",
    }
    with client(settings) as c:
        assert c.get("/").status_code == 401  # no token, no loopback anonymity
        assert c.get("/", headers={"authorization": "Bearer wrong"}).status_code == 401
        denied = c.post("/exceptions", data=form, headers=bearer("viewer"))
        assert denied.status_code == 403 and "may not" in denied.text
        assert c.post("/exceptions", data=form, headers=bearer("auditor")).status_code == 403
        added = c.post("/exceptions", data=form, headers=bearer("editor"))
        assert added.status_code == 303
        rows = {
            r["control"]: r for r in c.get("/controls?format=json", headers=bearer("viewer")).json()
        }
        assert rows["A.8.3"]["state"] != "failing"  # every failure accepted
        page = c.get("/controls/A.8.3", headers=bearer("viewer")).text
        assert "public by design" in page and "editor-bot" not in page.split("Exceptions")[0]
        # the auditor sees the store as it stood at the end of their period only
        seen = c.get("/controls?format=json", headers=bearer("auditor")).json()
        assert {r["control"]: r for r in seen}["A.8.3"]["state"] == "failing"
        recent = c.get("/controls/A.8.3", headers=bearer("viewer")).text
        newest = max(int(x.split('"')[0]) for x in recent.split('href="/records/')[1:])
        assert c.get(f"/records/{newest}", headers=bearer("auditor")).status_code == 404
    from storage import EvidenceStore

    with EvidenceStore.open(sqlite_url) as store:
        (exception,) = store.exceptions()
    assert exception.created_by == "editor-bot" and exception.approved_by == "cto"


def test_forms_need_their_csrf_token_and_pages_send_security_headers(tmp_path, sqlite_url):
    config = write_config(tmp_path, sqlite_url, anonymous_role="editor")
    checks = seed(sqlite_url, config)
    with client(load_settings(config)) as c:
        page = c.get("/controls/A.8.3")
        assert page.status_code == 200
        headers = page.headers
        assert "default-src 'self'" in headers["content-security-policy"]
        assert (
            headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        )
        assert "http://" not in page.text.split("<main")[0]  # no CDN, no external asset
        form = {
            "check": checks[0],
            "resource": "x",
            "reason": "r",
            "approved_by": "a",
            "expires": "2026-12-31",
        }
        forged = TestClient(c.app, follow_redirects=False)  # a cross-site page: no cookie
        assert forged.post("/exceptions", data=form).status_code == 403
        assert c.post("/exceptions", data={**form, "csrftoken": "forged"}).status_code == 403
        ok = c.post("/exceptions", data={**form, "csrftoken": csrf_of(page.text)})
        assert ok.status_code == 303
        bad = c.post(
            "/exceptions", data={**form, "expires": "2020-01-01", "csrftoken": csrf_of(page.text)}
        )
        assert bad.status_code == 400 and "in the past" in bad.text


def test_manual_evidence_upload_is_stored_with_the_editor_as_author(tmp_path, sqlite_url):
    config = write_config(tmp_path, sqlite_url, anonymous_role=None)
    seed(sqlite_url, config)
    with client(load_settings(config)) as c:
        done = c.post(
            "/controls/A.5.1/evidence",
            data={"valid_for": "365d", "note": "board approved"},
            files={"file": ("policy.pdf", b"%PDF-1.4 policy", "application/pdf")},
            headers=bearer("editor"),
        )
        assert done.status_code == 303
        page = c.get("/controls/A.5.1", headers=bearer("viewer")).text
        assert "policy.pdf" in page and "editor-bot" in page and "board approved" in page
        state = {
            r["control"]: r for r in c.get("/controls?format=json", headers=bearer("viewer")).json()
        }
        assert state["A.5.1"]["state"] == "attested"


def test_audit_package_download_uses_the_export_code(tmp_path, sqlite_url) -> None:
    config = write_config(tmp_path, sqlite_url, anonymous_role=None)
    seed(sqlite_url, config)
    with client(load_settings(config)) as c:
        started = c.post(
            "/export", data={"from": "2026-06-13", "to": "2026-06-15"}, headers=bearer("viewer")
        )
        assert started.status_code == 303
        job = started.headers["location"]
        import time

        for _ in range(300):
            page = c.get(job, headers=bearer("viewer")).text
            if "Ready" in page or "could not" in page:
                break
            time.sleep(0.1)
        assert "Ready" in page, page
        package = c.get(job + "/download", headers=bearer("viewer"))
        assert package.status_code == 200 and package.content[:2] == b"PK"
        assert c.get(job + "/download", headers=bearer("editor")).status_code == 404  # not theirs
        outside = c.post(
            "/export", data={"from": "2026-06-01", "to": "2026-06-15"}, headers=bearer("auditor")
        )
        assert outside.status_code == 400 and "inside your audit period" in outside.text


def test_serving_beyond_loopback_needs_authentication(tmp_path, sqlite_url) -> None:
    config = tmp_path / "annexa.yaml"
    config.write_text(f"database_url: {sqlite_url}\n")
    settings = load_settings(config)
    with pytest.raises(UserError, match="without authentication"):
        check_bind(settings.web, "0.0.0.0")
    check_bind(settings.web, "127.0.0.1")
    check_bind(settings.web, "::1")
    with client(settings, host="0.0.0.0") as c:  # anonymity ends at loopback
        assert c.get("/").status_code == 401
