"""Fixtures: a respx router and Workspace settings with a generated service-account key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import respx

from collector.settings import WorkspaceSettings
from tests.http.keys import rsa_private_pem

TOKEN_URL = "https://oauth2.googleapis.com/token"


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def settings(tmp_path: Path) -> WorkspaceSettings:
    key = tmp_path / "annexa-workspace.json"
    key.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "annexa-example",
                "private_key_id": "0123456789abcdef0123456789abcdef01234567",
                "private_key": rsa_private_pem(),
                "client_email": "annexa@annexa-example.iam.gserviceaccount.com",
                "client_id": "104857600000000000042",
                "token_uri": TOKEN_URL,
            }
        )
    )
    return WorkspaceSettings(domain="example.com", admin_email="ann@example.com", key_file=key)
