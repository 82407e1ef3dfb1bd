"""Clause 9.1 measures on the console: the overview and a control's page show, for the chosen
period, the figures ``annexa report`` computes (``build_review``) for the same store and period;
the overview's "what changed" states are those of ``status --at`` a day and a week before, and a
control's page shows the CLI's status of that control (now and ``--at``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient

from collector import audit, report
from collector.app import load_workspace
from collector.measures import measure_fields
from collector.review import build_review
from collector.web.app import create_app
from storage import EvidenceStore
from tests.web.conftest import FAILING, NOW, TOKENS

VIEWER = {"authorization": f"Bearer {TOKENS['viewer']}"}
FROM = datetime(2026, 6, 10, tzinfo=UTC)


def _json_fields(fields: dict) -> dict:
    return {k: report.iso(v) if isinstance(v, datetime) else v for k, v in fields.items()}


def _report(settings):
    """What ``annexa report --from 2026-06-10 --to 2026-06-15`` computes, at NOW."""
    workspace = load_workspace(settings)
    soa, _ = workspace.soa(None)
    with EvidenceStore.open(settings.store_url) as store:
        review = build_review(
            workspace, store, soa, start=FROM, end=datetime(2026, 6, 16, tzinfo=UTC), now=NOW
        )
        before = {
            label: {
                s.control.id: s.state for s in audit.statuses_at(workspace, store, soa, NOW - delta)
            }
            for label, delta in (("24 h", timedelta(days=1)), ("7 days", timedelta(days=7)))
        }
        statuses = workspace.statuses(store, soa, NOW)
        current = {s.control.id: s.state for s in statuses}
        rows = {r["control"]: r for r in report.status_rows(statuses)}
        past = audit.statuses_at(
            workspace, store, soa, datetime(2026, 6, 14, 23, 59, 59, 999999, tzinfo=UTC)
        )
        rows_past = {r["control"]: r for r in report.status_rows(past)}
    return review, before, current, rows, rows_past


@pytest.mark.postgres
def test_overview_and_control_page_show_the_reports_measures(estate):
    settings, checks = estate
    review, before, current, rows, rows_past = _report(settings)
    expected = {c.control.id: _json_fields(measure_fields(c.current)) for c in review.controls}
    # the history makes these figures non-trivial: A.8.3 failing since its first record
    a83 = expected["A.8.3"]
    assert a83["went_failing"] == 1 and a83["passing_pct"] == 0.0
    assert a83["failing_since"] == report.iso(NOW - timedelta(hours=48))
    assert expected["A.7.5"]["passing_pct"] is None
    query = "from=2026-06-10&to=2026-06-15&format=json"
    with TestClient(create_app(settings, clock=lambda: NOW)) as c:
        overview = c.get(f"/?{query}", headers=VIEWER).json()
        control = c.get(f"/controls/A.8.3?{query}", headers=VIEWER).json()
        html = c.get("/controls/A.8.3?from=2026-06-10&to=2026-06-15", headers=VIEWER).text
        overview_html = c.get("/?from=2026-06-10&to=2026-06-15", headers=VIEWER).text
        shown_past = c.get("/controls/A.8.3?at=2026-06-14&format=json", headers=VIEWER).json()
    measures = overview["measures"]
    assert (measures["from"], measures["to"]) == (report.iso(FROM), report.iso(NOW))
    assert measures["controls"] == expected
    assert control["measures"]["controls"] == {"A.8.3": expected["A.8.3"]}
    opened = [
        (f.age.check_id, f.age.resource, f.band, f.severity, f.accepted_by)
        for f in review.open_findings
    ]
    assert (checks[0], FAILING, "0-7d") in [o[:3] for o in opened]
    for shown in (measures["open_findings"], control["measures"]["open_findings"]):
        assert [
            (f["check"], f["resource"], f["age_band"], f["severity"], f["accepted_by"])
            for f in shown
        ] == opened
    # a control's page: the CLI's status of it, now and as it stood on a past date
    for shown, cli in ((control, rows["A.8.3"]), (shown_past, rows_past["A.8.3"])):
        assert {k: v for k, v in shown.items() if k != "measures"} == json.loads(json.dumps(cli))
    assert "Mean time to restore" in html and "Open failing findings by age" in html
    assert 'id="measures"' in overview_html and "Lowest continuity" in overview_html
    # what changed: the states of status --at one day and one week before
    for label, states in before.items():
        moved = {
            cid: (str(states[cid]) if cid in states else None, str(state))
            for cid, state in current.items()
            if states.get(cid) is not state
        }
        assert {m["control"]: (m["before"], m["now"]) for m in overview["changes"][label]} == moved
    assert "A.8.3" in {m["control"] for m in overview["changes"]["7 days"]}


def test_a_control_excluded_part_of_the_period_is_measured_as_the_report_measures_it(estate):
    """The daemon recorded A.8.3 going not applicable a day before NOW: the console measures
    it only while it applied, as the report does (same inputs: SoA corrected by transitions)."""
    settings, _ = estate
    with EvidenceStore.open(settings.store_url) as store:
        store.record_transition("A.8.3", None, "failing", at=NOW - timedelta(hours=48))
        store.record_transition("A.8.3", "failing", "not_applicable", at=NOW - timedelta(hours=24))
    review, *_ = _report(settings)
    expected = {c.control.id: _json_fields(measure_fields(c.current)) for c in review.controls}
    assert expected["A.8.3"]["excluded_days"] == 1.0
    query = "from=2026-06-10&to=2026-06-15&format=json"
    with TestClient(create_app(settings, clock=lambda: NOW)) as c:
        overview = c.get(f"/?{query}", headers=VIEWER).json()
        control = c.get(f"/controls/A.8.3?{query}", headers=VIEWER).json()
    assert overview["measures"]["controls"] == expected
    assert control["measures"]["controls"] == {"A.8.3": expected["A.8.3"]}


@pytest.mark.postgres
def test_remembered_continuity_follows_a_new_exception(estate):
    """The console keeps each (check, target)'s state changes with its cached read of a period;
    an exception added (then revoked) after the page was first shown changes them: every view
    equals the report computed afresh."""
    settings, checks = estate
    query = "from=2026-06-10&to=2026-06-15&format=json"

    def shown(client) -> dict:
        return client.get(f"/?{query}", headers=VIEWER).json()["measures"]["controls"]

    def fresh() -> dict:
        review = _report(settings)[0]
        return {c.control.id: _json_fields(measure_fields(c.current)) for c in review.controls}

    with TestClient(create_app(settings, clock=lambda: NOW)) as client:
        assert shown(client) == shown(client) == fresh()
        before = fresh()["A.8.3"]
        with EvidenceStore.open(settings.store_url) as store:
            made = store.add_exception(
                check_id=checks[0],
                resource_pattern=FAILING,
                target_pattern="*",
                reason="compensating control",
                approved_by="CISO",
                created_at=FROM - timedelta(days=30),
                expires_at=NOW + timedelta(days=30),
                created_by="alice",
            )
        accepted = shown(client)
        assert accepted == fresh() and accepted["A.8.3"] != before
        with EvidenceStore.open(settings.store_url) as store:
            store.revoke_exception(made.id, revoked_at=NOW, revoked_by="bob", reason="fixed")
        assert shown(client) == fresh()
