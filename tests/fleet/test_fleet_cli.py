"""``annexa permissions fleet`` prints the Fleet role of the API-only user to create."""

from __future__ import annotations

import json


def test_permissions_fleet(annexa):
    code, out, _ = annexa("permissions", "fleet")
    assert code == 0
    document = json.loads(out)
    assert document["global_roles"] == ["observer"]
    assert "--api-only --global-role observer" in document["create"]
