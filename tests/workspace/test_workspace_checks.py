"""Google Workspace end to end on the real clients: google-auth signs the delegated JWT grant,
the shared httpx client pages the Admin SDK Directory API; both answered by recordings."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import respx

from checks.testing import verdicts
from checks.workspace import users as checks
from checks.workspace.models import WorkspaceUser, WorkspaceUsers
from collector.causes import describe_error
from collector.collect import Target
from collector.http import ApiError, MalformedResponse
from collector.registry import load_registry
from collector.settings import WorkspaceSettings
from collector.snapshots import SnapshotCache
from collector.workspace.accounts import resolve_accounts
from collector.workspace.auth import USER_READONLY

REGISTRY = load_registry(entry_point_packs=False)
RECORDINGS = Path(__file__).parent / "recordings"
TOKEN_URL = "https://oauth2.googleapis.com/token"
USERS = "https://admin.googleapis.com/admin/directory/v1/users"
PAGE_TOKEN = "Q2hBSUFCSUtaWGhoYlhCc1pTNWpiMjA="
NOW = datetime(2024, 6, 1, tzinfo=UTC)


def recording(name: str) -> dict:
    return json.loads((RECORDINGS / name).read_text())


def answer(name: str, status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=recording(name), headers=headers)


def serve_directory(api: respx.MockRouter) -> dict[str, respx.Route]:
    token = api.post(TOKEN_URL).mock(return_value=answer("token.json"))
    page2 = api.get(USERS, params={"pageToken": PAGE_TOKEN}).mock(
        return_value=answer("users_page2.json")
    )
    page1 = api.get(USERS).mock(return_value=answer("users_page1.json"))
    return {"token": token, "page1": page1, "page2": page2}


def collect(settings: WorkspaceSettings, sleeps: list[float] | None = None) -> WorkspaceUsers:
    (account,) = resolve_accounts(
        settings, clock=lambda: NOW, sleep=(sleeps if sleeps is not None else []).append
    )
    assert account.error is None and account.make_scope is not None
    cache = SnapshotCache(REGISTRY.collectors, account.make_scope)
    return cache.get(WorkspaceUsers, Target("workspace", "example.com"))


def test_delegated_token_fetched_once_and_users_paged(api, settings):
    routes = serve_directory(api)
    users = collect(settings)
    assert [u.email for u in users.users] == [
        f"{name}@example.com"
        for name in ("ann", "bob", "carol", "dave", "erin", "frank", "gina", "hal")
    ]
    assert routes["token"].call_count == 1
    grant = parse_qs(routes["token"].calls[0].request.content.decode())
    assert grant["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(grant["assertion"][0], options={"verify_signature": False})
    assert claims["sub"] == "ann@example.com" and claims["scope"] == USER_READONLY
    first = routes["page1"].calls[0].request
    assert dict(first.url.params) == {
        "customer": "my_customer",
        "projection": "full",
        "orderBy": "email",
        "maxResults": "500",
    }
    assert first.headers["Authorization"] == "Bearer ya29.example-workspace-token"
    assert routes["page2"].calls[0].request.url.params["pageToken"] == PAGE_TOKEN
    erin = users.users[4]
    assert erin.last_login is None and users.collected_at == NOW  # 1970: never logged in


EXPECTED = {
    checks.two_step_enrolled: {
        ("ann@example.com", True),
        ("bob@example.com", True),
        ("carol@example.com", False),
        ("dave@example.com", True),
        ("erin@example.com", False),
        ("frank@example.com", False),
    },
    checks.two_step_enforced: {
        ("ann@example.com", True),
        ("bob@example.com", False),
        ("carol@example.com", False),
        ("dave@example.com", True),
        ("erin@example.com", False),
        ("frank@example.com", False),
    },
    checks.admins_two_step_enforced: {
        ("ann@example.com", True),
        ("bob@example.com", False),
        ("carol@example.com", False),
    },
    checks.inactive_suspended: {
        ("ann@example.com", True),
        ("bob@example.com", True),
        ("carol@example.com", True),
        ("dave@example.com", False),  # last login December 2023
        ("erin@example.com", True),  # never, but created two weeks ago
        ("frank@example.com", False),  # never, created 2023
    },
    checks.super_admin_count: {("example.com", True)},  # ann and bob (gina is suspended)
}


@pytest.mark.parametrize("check", EXPECTED, ids=lambda c: c.__name__)
def test_checks_on_recorded_directory(api, settings, check):
    serve_directory(api)
    assert verdicts(check, collect(settings)) == EXPECTED[check]


def _admins(count: int) -> WorkspaceUsers:
    def admin(n: int) -> WorkspaceUser:
        return WorkspaceUser(
            id=str(n),
            email=f"admin{n}@example.com",
            suspended=False,
            archived=False,
            super_admin=True,
            delegated_admin=False,
            enrolled_2sv=True,
            enforced_2sv=True,
            created_at=NOW,
            last_login=NOW,
        )

    users = tuple(admin(n) for n in range(count))
    return WorkspaceUsers(domain="example.com", collected_at=NOW, inactive_days=90, users=users)


@pytest.mark.parametrize(("count", "passed"), [(1, False), (2, True), (4, True), (5, False)])
def test_super_admin_count_bounds(count, passed):
    assert verdicts(checks.super_admin_count, _admins(count)) == {("example.com", passed)}


def test_inactive_days_is_configurable(api, settings):
    serve_directory(api)
    users = collect(settings.model_copy(update={"inactive_days": 20}))
    failing = {r for r, ok in verdicts(checks.inactive_suspended, users) if not ok}
    assert failing == {"bob@example.com", "dave@example.com", "frank@example.com"}


def test_answer_without_users_field_is_an_error(api, settings):
    """Google omits an empty list's field; a Workspace customer always has a user (the admin
    the service account acts as), so an answer without ``users`` is not an empty directory."""
    api.post(TOKEN_URL).mock(return_value=answer("token.json"))
    api.get(USERS).mock(return_value=answer("users_empty.json"))
    with pytest.raises(MalformedResponse, match="no 'users' field: cannot tell an empty list"):
        collect(settings)


def test_delegation_not_authorised_is_an_account_error(api, settings):
    api.post(TOKEN_URL).mock(return_value=answer("token_unauthorized_client.json", 401))
    (account,) = resolve_accounts(settings)
    assert account.make_scope is None
    assert account.error == (
        "cannot access Google Workspace: credentials rejected: unauthorized_client: Client is "
        "unauthorized to retrieve access tokens using this method, or client not authorized "
        "for any of the scopes requested. (authorise the service account's client id for the "
        "scope in Admin console > Security > API controls > Domain-wide delegation)"
    )


def test_missing_key_file_is_an_account_error(settings, tmp_path):
    (account,) = resolve_accounts(settings.model_copy(update={"key_file": tmp_path / "no.json"}))
    assert account.error and account.error.startswith("cannot access Google Workspace: ")
    assert "no.json" in account.error


def test_not_configured_means_no_account():
    assert resolve_accounts(WorkspaceSettings()) == []


def test_forbidden_names_the_scope(api, settings):
    api.post(TOKEN_URL).mock(return_value=answer("token.json"))
    api.get(USERS).mock(return_value=answer("error_forbidden.json", 403))
    with pytest.raises(ApiError) as denied:
        collect(settings)
    assert describe_error(denied.value) == (
        "HTTP 403 PERMISSION_DENIED on GET /admin/directory/v1/users: Not Authorized to access "
        f"this resource/api (missing permission: {USER_READONLY})"
    )


def test_quota_429_is_retried_after_its_retry_after(api, settings):
    api.post(TOKEN_URL).mock(return_value=answer("token.json"))
    throttled = httpx.Response(
        429, json={"error": {"code": 429, "message": "Quota"}}, headers={"Retry-After": "4"}
    )
    api.get(USERS).mock(side_effect=[throttled, answer("users_page2.json")])
    sleeps: list[float] = []
    assert collect(settings, sleeps).users
    assert sleeps == [4.0]


def test_malformed_page_is_an_error(api, settings):
    api.post(TOKEN_URL).mock(return_value=answer("token.json"))
    api.get(USERS).mock(return_value=httpx.Response(200, json={"users": {"id": "x"}}))
    with pytest.raises(MalformedResponse, match="'users' is not a list of objects"):
        collect(settings)
