"""A small real estate of evidence for the console: A.8.3's checks pass except one failing
bucket, seeded through the store's own append path, and settings with tokens per role."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.app import load_workspace
from collector.settings import Settings, load_settings
from collector.web.auth import hash_token
from storage import EvidenceStore
from tests.store.test_store import evidence

NOW = datetime(2026, 6, 15, 12, tzinfo=UTC)
FAILING = "arn:aws:s3:::public-bucket"
TOKENS = {"viewer": "tok-viewer", "editor": "tok-editor", "auditor": "tok-auditor"}
SOA = (
    "controls:\n"
    "  - {control: A.8.3, applicable: yes, owner: Data Protection Lead}\n"
    "  - {control: A.7.5, applicable: no, justification: fully remote}\n"
)


def seed(url: str, config: Path) -> list[str]:
    """Three runs of every AWS check mapped to A.8.3 over two days; the first one fails."""
    mapped = load_workspace(load_settings(config)).mapping.checks_for("A.8.3")
    checks = [c for c in mapped if c.startswith("aws.")]
    failing = [{"resource": FAILING, "passed": False, "message": "public access possible"}]
    with EvidenceStore.open(url) as store:
        for hours in (48, 24, 1):
            at = NOW - timedelta(hours=hours)
            run = store.start_run(started_at=at)
            store.append_many(
                evidence(
                    run,
                    check_id=c,
                    at=at,
                    status="fail" if c == checks[0] else "pass",
                    findings=failing if c == checks[0] else None,
                )
                for c in checks
            )
            store.finish_run(run, finished_at=at + timedelta(minutes=1), outcome="complete")
    return checks


def write_config(tmp_path: Path, url: str, **web: object) -> Path:
    """An annexa.yaml with the SoA, the store and a web section (tokens for each role)."""
    import yaml

    (tmp_path / "soa.yaml").write_text(SOA)
    tokens = [
        {"name": f"{role}-bot", "role": role, "sha256": hash_token(token)}
        | ({"period_from": "2026-06-14", "period_to": "2026-06-14"} if role == "auditor" else {})
        for role, token in TOKENS.items()
    ]
    config = tmp_path / "annexa.yaml"
    config.write_text(
        yaml.safe_dump({"soa": "soa.yaml", "database_url": url, "web": {"tokens": tokens, **web}})
    )
    return config


@pytest.fixture
def estate(tmp_path: Path, store_url: str) -> tuple[Settings, list[str]]:
    """Settings over a seeded store (SQLite and PostgreSQL)."""
    config = write_config(tmp_path, store_url, anonymous_role=None)
    checks = seed(store_url, config)
    return load_settings(config), checks


def csrf_of(html: str) -> str:
    """The CSRF token a rendered form carries."""
    found = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found[1]


Clock = Callable[[], datetime]
