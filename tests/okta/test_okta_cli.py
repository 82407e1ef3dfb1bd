"""``annexa permissions okta`` prints the read-only scopes and the admin role to grant."""

from __future__ import annotations

import json


def test_permissions_okta(annexa):
    code, out, _ = annexa("permissions", "okta")
    assert code == 0
    document = json.loads(out)
    assert document["oauth_scopes"] == [
        "okta.factors.read",
        "okta.policies.read",
        "okta.roles.read",
        "okta.users.read",
    ]
    assert document["admin_role"] == "Read-Only Administrator"


def test_permissions_for_one_okta_check(annexa):
    code, out, _ = annexa("permissions", "okta", "--check", "okta.policies.password_strength")
    assert code == 0 and json.loads(out)["oauth_scopes"] == ["okta.policies.read"]


def test_another_notation_is_refused():
    import pytest

    from collector.okta.permissions import render

    with pytest.raises(ValueError, match="unknown permission notation: fleet:observer"):
        render({"okta:okta.users.read", "fleet:observer"})
