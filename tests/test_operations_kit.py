"""The operations kit in ``deploy/``: the example configuration loads and configures every
provider; the Prometheus alerting rules pass ``promtool check rules`` and their unit tests;
the Grafana dashboard's queries are valid PromQL over metric names the daemon exports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from collector.daemon.health import Metrics
from collector.providers import RESOLVERS
from collector.settings import load_settings

DEPLOY = Path(__file__).parent.parent / "deploy"
EXAMPLE = DEPLOY / "annexa.example.yaml"
RULES = DEPLOY / "prometheus" / "annexa-rules.yml"
RULE_TESTS = DEPLOY / "prometheus" / "annexa-rules.test.yml"
DASHBOARD = DEPLOY / "grafana" / "annexa-dashboard.json"
SECTION = {"entra": "azure", "intune": "azure"}  # providers configured in another's section
_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def test_example_config_configures_every_provider() -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    settings = load_settings(EXAMPLE)  # every field it sets exists and is valid
    for provider in RESOLVERS:
        assert SECTION.get(provider, provider) in raw, provider
    assert len(settings.aws.accounts) == 3 and settings.aws.regions == ["eu-west-1", "eu-central-1"]
    assert settings.azure.tenants[0].credential == "client_secret"
    assert settings.azure.entra.break_glass_accounts and settings.gcp.scopes
    assert settings.workspace.key_file == DEPLOY / "secrets" / "workspace-sa.json"
    assert settings.okta.org_url and settings.fleet.base_url and settings.github.organizations
    assert settings.osquery.enabled and settings.alerts.webhooks
    assert (settings.daemon.host, settings.daemon.port) == ("0.0.0.0", 9108)
    assert settings.identity.source == "okta" and settings.checkpoints.directory


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        message = "promtool missing: apt-get install prometheus (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message + " — CI must not skip it", pytrace=False)
        pytest.skip(message)
    return found


def _run(*args: str, cwd: Path) -> None:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_alert_rules_pass_promtool() -> None:
    promtool = _promtool()
    _run(promtool, "check", "rules", RULES.name, cwd=RULES.parent)
    _run(promtool, "test", "rules", RULE_TESTS.name, cwd=RULES.parent)


def exported_metric_names() -> set[str]:
    """Every sample name ``/metrics`` can carry, from the daemon's own registry."""
    metrics = Metrics(statuses=list, now=lambda: datetime.now(UTC))
    names = set()
    for family in metrics.registry.collect():
        names |= {family.name + suffix for suffix in _SUFFIXES[family.type]}
    return names


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", ())]
    assert len(queries) >= len(dashboard["panels"]), "every panel has a query"
    return queries


def test_queries_use_exported_metrics(tmp_path: Path) -> None:
    exported = exported_metric_names()
    assert {"annexa_store_up", "annexa_check_errors_total", "annexa_controls"} <= exported
    rules = [r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    for query in dashboard_queries() + rules:
        used = set(re.findall(r"\bannexa_[a-z_]+\b", query))
        assert used, query
        assert used <= exported, (query, used - exported)
    # the dashboard's queries are valid PromQL: promtool parses them as recording rules
    promtool = _promtool()
    recorded = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{n}", "expr": q.replace("$instance", ".*")}
                    for n, q in enumerate(dashboard_queries())
                ],
            }
        ]
    }
    (tmp_path / "dashboard.yml").write_text(yaml.safe_dump(recorded))
    _run(promtool, "check", "rules", "dashboard.yml", cwd=tmp_path)


def test_dashboard_is_importable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["__inputs"][0]["name"] == "DS_PROMETHEUS"
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
        assert {"x", "y", "w", "h"} <= set(panel["gridPos"])
