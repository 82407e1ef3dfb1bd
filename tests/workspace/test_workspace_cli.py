"""``annexa permissions workspace`` prints the OAuth scope to authorise for delegation."""

from __future__ import annotations

import json


def test_permissions_workspace(annexa):
    code, out, _ = annexa("permissions", "workspace")
    assert code == 0
    document = json.loads(out)
    assert document["oauth_scopes"] == [
        "https://www.googleapis.com/auth/admin.directory.device.mobile.readonly",
        "https://www.googleapis.com/auth/admin.directory.user.readonly",
        "https://www.googleapis.com/auth/admin.reports.audit.readonly",
    ]
    assert "Domain-wide delegation" in document["grant"]
