"""Alerts: one per transition (not per run, not again after a restart), back to passing,
JSON and Slack payloads, retries on 500, a hanging webhook that never blocks collection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from collector.daemon import Daemon
from collector.daemon.alerts import alertable, mask_webhook
from storage import EvidenceStore
from tests.daemon import (
    WebhookServer,
    aws_fixture,  # noqa: F401
    running,
    settings,
    wait_for,
)

TRAIL = "aws.cloudtrail.log_file_validation"  # the only check mapped to A.5.28


@pytest.fixture
def trail(aws: None) -> None:
    boto3.client("s3").create_bucket(Bucket="trail-logs")
    boto3.client("cloudtrail").create_trail(Name="main", S3BucketName="trail-logs")


@pytest.fixture
def hooks():
    server = WebhookServer()
    yield server
    server.close()


def count(url: str) -> int:
    with EvidenceStore.open(url) as store:
        return len(store.history(check_ids=[TRAIL], limit=None))


def about(payloads: list[dict], control: str = "A.5.28") -> list[dict]:
    return [p for p in payloads if p.get("control") == control or control in p.get("text", "")]


def test_one_alert_per_transition_across_runs_and_restarts(trail, hooks, store_url, tmp_path):
    # A.5.28's evidence may be an hour old: a slow machine cannot add at-risk/stale alerts.
    soa = tmp_path / "soa.yaml"
    soa.write_text("controls:\n  - {control: A.5.28, applicable: yes, max_evidence_age: 1h}\n")
    with EvidenceStore.open(store_url) as store:  # CloudTrail's digests only support A.5.28
        now = datetime.now(UTC)
        store.add_manual(
            ["A.5.28"],
            b"log handling procedure",
            file_name="procedure.txt",
            media_type="text/plain",
            note="",
            uploaded_at=now - timedelta(minutes=1),
            valid_until=now + timedelta(days=30),
            uploaded_by="ciso",
        )
    config = settings(
        store_url,
        [TRAIL],
        {TRAIL: 0.3},
        soa=soa,
        alerts={
            "webhooks": [
                {"url": hooks.url("/json/SECRET"), "format": "json", "backoff": 0.05},
                {"url": hooks.url("/slack/SECRET"), "format": "slack", "backoff": 0.05},
            ]
        },
    )
    with running(Daemon(config, poll=0.1)):
        wait_for(lambda: len(about(hooks.payloads)) == 2)
        done = count(store_url)
        wait_for(lambda: count(store_url) >= done + 3)  # more runs, same state
        assert len(about(hooks.payloads)) == 2
        boto3.client("cloudtrail").update_trail(Name="main", EnableLogFileValidation=True)
        wait_for(lambda: len(about(hooks.payloads)) == 4)
    json_alerts = [p for p in hooks.payloads if p.get("control") == "A.5.28"]
    assert [(p["from"], p["to"]) for p in json_alerts] == [
        ("no_evidence", "failing"),
        ("failing", "passing"),
    ]
    first = json_alerts[0]
    assert first["title"] == "Collection of evidence"
    assert any("1 of 1 accounts failing" in r for r in first["reasons"])
    slack = [p for p in about(hooks.payloads) if "blocks" in p]
    assert "A.5.28" in slack[0]["text"] and "failing" in slack[0]["text"]
    assert slack[0]["blocks"][0]["type"] == "section"
    assert sorted(set(hooks.paths)) == ["/json/SECRET", "/slack/SECRET"]
    with EvidenceStore.open(store_url) as store:
        alerted = store.transitions(control="A.5.28")
        assert [t.alert_state for t in alerted] == ["none", "delivered", "delivered"]
    before = count(store_url)
    # a restart (with an interval whose max age outlasts the restart): nothing re-sent
    config.schedule.intervals[TRAIL] = timedelta(seconds=1.5)
    with running(Daemon(config, poll=0.1)):
        wait_for(lambda: count(store_url) >= before + 2)
    assert len(about(hooks.payloads)) == 4


def test_retry_on_500_and_a_hanging_webhook_never_blocks_collection(trail, sqlite_url):
    flaky = WebhookServer(["500"])
    hanging = WebhookServer(["hang", "hang"], hang=120)
    config = settings(
        sqlite_url,
        [TRAIL],
        {TRAIL: 0.2},
        alerts={
            "webhooks": [
                {"url": flaky.url(), "retries": 2, "backoff": 0.05},
                {"url": hanging.url(), "timeout": 60, "retries": 1, "backoff": 0.05},
            ]
        },
    )
    try:
        daemon = Daemon(config, poll=0.1)
        with running(daemon):
            wait_for(lambda: about(flaky.payloads))
            wait_for(lambda: hanging.holding)  # the alert worker waits on the hanging hook
            during = count(sqlite_url)
            wait_for(lambda: count(sqlite_url) >= during + 3)
            assert hanging.holding == 1  # ... and collection went on meanwhile
            hanging.release.set()  # both attempts now end without an answer: failed
            # A.5.28 then A.8.15 (the check maps to both): A.8.15 finds both hooks answering
            deliveries = daemon.metrics.alert_deliveries
            wait_for(lambda: deliveries.labels("delivered")._value.get() == 3)
            metrics = daemon.metrics.render().decode()
        assert 'annexa_alert_deliveries_total{outcome="failed"} 1.0' in metrics
        assert 'annexa_alert_deliveries_total{outcome="retried"} 2.0' in metrics  # 500, hang
        assert len(about(flaky.payloads)) == 2  # the 500 and the retry
        with EvidenceStore.open(sqlite_url) as store:
            (alerted,) = [t for t in store.transitions(control="A.5.28") if t.to_state == "failing"]
            assert alerted.alert_state == "failed"
    finally:
        flaky.close()
        hanging.close()


def test_which_transitions_alert():
    assert alertable(None, "failing") and alertable("passing", "stale")
    assert alertable("passing", "passing+at_risk") and alertable("error", "passing")
    assert alertable("passing+at_risk", "passing")
    assert not alertable(None, "passing") and not alertable("no_evidence", "passing")
    assert not alertable("passing", "no_evidence") and not alertable(None, "manual")
    assert alertable("failing", "accepted") and alertable("accepted", "failing")
    assert not alertable(None, "accepted") and not alertable("passing", "accepted")


def test_webhook_urls_are_masked():
    assert mask_webhook("https://hooks.slack.com/services/T0/B0/xyz") == (
        "https://hooks.slack.com/***"
    )
    assert mask_webhook("http://127.0.0.1:8080/a?token=s") == "http://127.0.0.1:8080/***"
    assert mask_webhook("https://user:pw@example.com/") == "https://example.com"
