"""Third-party app grants through the real clients: google-auth fetches a second delegated
token (the Reports audit scope) on first use, the shared httpx client pages the Reports API's
token ``authorize`` events (recordings/SOURCES.md)."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import jwt
import pytest

from checks.testing import findings, verdicts
from checks.workspace.apps import WorkspaceAppGrants, authorized_allowed
from collector.causes import describe_error
from collector.collect import Target
from collector.snapshots import SnapshotCache
from collector.workspace.accounts import resolve_accounts
from collector.workspace.directory import USER_READONLY
from collector.workspace.reports import REPORTS_READONLY, AllowListMissing
from tests.workspace.test_workspace_checks import NOW, REGISTRY, TOKEN_URL, answer

EVENTS = "https://admin.googleapis.com/admin/reports/v1/activity/users/all/applications/token"
NEXT = "A:1716000000000000:-1003:token:C03xgje4y"
SLACK, ZOOM, SKETCHY = (f"{n}.apps.googleusercontent.com" for n in (22222, 33333, 44444))


def tokens(reports_answer: str = "token.json"):
    """The token endpoint: the Directory scope always granted, the Reports scope as given."""
    scopes: list[str] = []

    def grant(request: httpx.Request) -> httpx.Response:
        assertion = parse_qs(request.content.decode())["assertion"][0]
        scope = jwt.decode(assertion, options={"verify_signature": False})["scope"]
        scopes.append(scope)
        if scope == REPORTS_READONLY and reports_answer != "token.json":
            return answer(reports_answer, 401)
        return answer("token.json")

    return grant, scopes


def collect(settings) -> WorkspaceAppGrants:
    (account,) = resolve_accounts(settings, clock=lambda: NOW, sleep=[].append)
    assert account.error is None and account.make_scope is not None
    cache = SnapshotCache(REGISTRY.collectors, account.make_scope)
    return cache.get(WorkspaceAppGrants, Target("workspace", "example.com"))


def test_apps_not_on_the_allow_list_fail_across_pages(api, settings):
    grant, scopes = tokens()
    api.post(TOKEN_URL).mock(side_effect=grant)
    page2 = api.get(EVENTS, params={"pageToken": NEXT}).mock(
        return_value=answer("token_events_page2.json")
    )
    page1 = api.get(EVENTS).mock(return_value=answer("token_events_page1.json"))
    allowed = settings.model_copy(update={"allowed_apps": [SLACK, "Zoom"]})
    snapshot = collect(allowed)
    assert scopes == [USER_READONLY, REPORTS_READONLY]  # the second on first use
    asked = page1.calls[0].request.url.params
    assert asked["eventName"] == "authorize" and asked["startTime"] == "2023-12-04T00:00:00Z"
    assert page2.call_count == 1
    assert verdicts(authorized_allowed, snapshot) == {
        (SLACK, True),  # by client id
        (ZOOM, True),  # by app name
        (SKETCHY, False),
    }
    message = {f.resource: f.message for f in findings(authorized_allowed, snapshot)}[SKETCHY]
    assert message == "PDF Magic authorised by 2 user(s), last 2024-05-10: not on the allow-list"


def test_no_grants_in_the_window_is_nothing_to_judge(api, settings):
    api.post(TOKEN_URL).mock(side_effect=tokens()[0])
    api.get(EVENTS).mock(return_value=answer("token_events_empty.json"))
    snapshot = collect(settings.model_copy(update={"allowed_apps": []}))
    assert snapshot.apps == () and verdicts(authorized_allowed, snapshot) == set()


def test_an_unconfigured_allow_list_is_an_error(api, settings):
    api.post(TOKEN_URL).mock(side_effect=tokens()[0])
    with pytest.raises(AllowListMissing, match=r"workspace\.allowed_apps"):
        collect(settings)


def test_a_missing_reports_delegation_fails_only_this_collector(api, settings):
    grant, _ = tokens("token_unauthorized_client.json")
    api.post(TOKEN_URL).mock(side_effect=grant)
    with pytest.raises(Exception) as caught:
        collect(settings.model_copy(update={"allowed_apps": [SLACK]}))
    assert "unauthorized_client" in describe_error(caught.value)
