"""The shared HTTP client on its own: each paging style, each wait policy, error shapes, and
the guards (next links on another host, repeated page tokens, timeouts)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import httpx
import pytest
import respx

from checks.api import Snapshot
from collector.causes import describe_error
from collector.collect import Target, collects
from collector.http import (
    ApiError,
    ApiScope,
    HttpClient,
    LinkHeader,
    MalformedResponse,
    NextLinkField,
    PageNumber,
    PageToken,
    bearer,
    error_fields,
    rate_limit_reset_wait,
    retry_after_wait,
    set_request_gate,
    ssws,
)
from collector.registry import build_registry
from collector.snapshots import SnapshotCache

BASE = "https://api.example.com"
ITEMS = f"{BASE}/v1/items"
EPOCH = 1_717_200_000.0  # Sat, 01 Jun 2024 00:00:00 GMT


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


def client(sleeps: list[float] | None = None, **kwargs) -> HttpClient:
    return HttpClient(
        base_url=BASE,
        sleep=(sleeps if sleeps is not None else []).append,
        clock=lambda: EPOCH,
        **kwargs,
    )


def test_link_header_paging(api):
    api.get(ITEMS, params={"after": "b"}).mock(return_value=httpx.Response(200, json=[{"id": "c"}]))
    first = api.get(ITEMS).mock(
        return_value=httpx.Response(
            200,
            json=[{"id": "a"}, {"id": "b"}],
            headers={"Link": f'<{ITEMS}?after=b&limit=2>; rel="next"'},
        )
    )
    listed = client(auth=ssws("t0ken")).list("/v1/items", paging=LinkHeader(limit=2))
    assert listed == [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    assert first.calls[0].request.url.params["limit"] == "2"
    assert first.calls[0].request.headers["Authorization"] == "SSWS t0ken"


def test_link_header_pages_of_objects_list_the_items_under_their_key(api):
    api.get(ITEMS).mock(return_value=httpx.Response(200, json={"environments": [{"id": 1}]}))
    paging = LinkHeader(items_key="environments")
    assert client().list("/v1/items", paging=paging) == [{"id": 1}]


@pytest.fixture
def gate():
    waited: list[tuple[str, str, str]] = []
    set_request_gate(lambda *key: waited.append(key))
    try:
        yield waited
    finally:
        set_request_gate(None)


def test_a_client_with_a_rate_key_waits_at_the_gate_before_each_request(api, gate):
    api.get(ITEMS).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.Response(200, json={}),
            httpx.Response(200, json={}),
        ]
    )
    client(rate_key=("okta", "org-1", "api")).get("/v1/items")  # a retry waits again
    client().get("/v1/items")  # no rate key: never waits
    assert gate == [("okta", "org-1", "api")] * 2


def test_next_link_to_another_host_is_refused(api):
    """A token is never sent to a host the API did not start on."""
    api.get(ITEMS).mock(
        return_value=httpx.Response(
            200, json=[], headers={"Link": '<https://elsewhere.example.net/v1/items>; rel="next"'}
        )
    )
    with pytest.raises(MalformedResponse, match="bad next link 'https://elsewhere"):
        client().list("/v1/items", paging=LinkHeader())


def test_nested_next_link_field(api):
    api.get(ITEMS, params={"after": "1"}).mock(
        return_value=httpx.Response(200, json={"value": [{"id": "2"}], "_links": {}})
    )
    api.get(ITEMS).mock(
        return_value=httpx.Response(
            200, json={"value": [{"id": "1"}], "_links": {"next": {"href": f"{ITEMS}?after=1"}}}
        )
    )
    paging = NextLinkField(items_key="value", fields=("_links/next/href",))
    assert client().list("/v1/items", paging=paging) == [{"id": "1"}, {"id": "2"}]


def test_page_token_paging_and_loop(api):
    api.get(ITEMS, params={"pageToken": "p2"}).mock(
        return_value=httpx.Response(200, json={"items": [{"id": "2"}], "nextPageToken": "p2"})
    )
    api.get(ITEMS).mock(
        return_value=httpx.Response(200, json={"items": [{"id": "1"}], "nextPageToken": "p2"})
    )
    with pytest.raises(MalformedResponse, match="bad page token 'p2'"):
        client().list("/v1/items", paging=PageToken(items_key="items"))


def test_page_number_follows_meta(api):
    route = api.get(ITEMS).mock(
        side_effect=[
            httpx.Response(200, json={"rows": [{"id": 1}], "meta": {"has_next_results": True}}),
            httpx.Response(200, json={"rows": [{"id": 2}], "meta": {"has_next_results": False}}),
        ]
    )
    paging = PageNumber(items_key="rows", per_page=50)
    assert client().list("/v1/items", paging=paging) == [{"id": 1}, {"id": 2}]
    assert [c.request.url.params["page"] for c in route.calls] == ["0", "1"]


def test_token_asked_for_on_every_attempt(api):
    tokens = iter(["expired", "fresh"])
    route = api.get(ITEMS).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "1"}),
            httpx.Response(200, json={}),
        ]
    )
    sleeps: list[float] = []
    auth = lambda: {"Authorization": f"Bearer {next(tokens)}"}  # noqa: E731
    assert client(sleeps, auth=auth).get("/v1/items") == {}
    assert [c.request.headers["Authorization"] for c in route.calls] == [
        "Bearer expired",
        "Bearer fresh",
    ]
    assert sleeps == [1.0]


def _response(status: int = 429, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize(
    ("policy", "headers", "attempt", "wait"),
    [
        (retry_after_wait, {"Retry-After": "12"}, 1, 12.0),
        (retry_after_wait, {"Retry-After": "Sat, 01 Jun 2024 00:00:20 GMT"}, 1, 20.0),
        (retry_after_wait, {"Retry-After": "soon"}, 2, 4.0),  # unreadable: exponential
        (retry_after_wait, {}, 3, 8.0),
        (rate_limit_reset_wait, {"X-Rate-Limit-Reset": str(int(EPOCH) + 9)}, 1, 9.0),
        (
            rate_limit_reset_wait,
            {"X-Rate-Limit-Reset": str(int(EPOCH) + 9), "Date": "Sat, 01 Jun 2024 00:00:05 GMT"},
            1,
            4.0,  # the server's clock is 5 s ahead of ours
        ),
        (rate_limit_reset_wait, {"Retry-After": "7"}, 1, 7.0),
    ],
)
def test_wait_policies(policy, headers, attempt, wait):
    assert policy(_response(**headers), attempt, EPOCH) == wait


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"error": {"code": "AuthorizationFailed", "message": "no"}},
            ("AuthorizationFailed", "no"),
        ),
        (
            {"error": {"code": 403, "status": "PERMISSION_DENIED", "message": "no"}},
            ("PERMISSION_DENIED", "no"),
        ),
        (
            {"error": "invalid_client", "error_description": "bad key"},
            ("invalid_client", "bad key"),
        ),
        ({"errorCode": "E0000006", "errorSummary": "denied"}, ("E0000006", "denied")),
        (
            {"message": "forbidden", "errors": [{"reason": "team scope"}]},
            ("Forbidden", "forbidden (team scope)"),
        ),
        ([1, 2], ("Unknown", "Forbidden")),
    ],
)
def test_error_fields(body, expected):
    assert error_fields(httpx.Response(403, json=body)) == expected


def test_declared_permission_named_on_403(api):
    api.get(ITEMS).mock(
        return_value=httpx.Response(403, json={"errorCode": "E0000006", "errorSummary": "denied"})
    )
    with pytest.raises(ApiError) as denied:
        client().get("/v1/items", requires="items.read")
    assert denied.value.permission == "items.read"
    assert describe_error(denied.value) == (
        "HTTP 403 E0000006 on GET /v1/items: denied (missing permission: items.read)"
    )


def test_timeouts_and_transport_errors(api):
    api.get(ITEMS).mock(side_effect=[httpx.ConnectTimeout("slow"), httpx.ConnectError("refused")])
    with pytest.raises(TimeoutError, match="GET /v1/items timed out"):
        client().get("/v1/items")
    with pytest.raises(ConnectionError, match="GET /v1/items failed: refused"):
        client().get("/v1/items")


def test_post_form(api):
    route = api.post(f"{BASE}/token").mock(
        return_value=httpx.Response(200, json={"access_token": "x"})
    )
    assert client().post_form("/token", {"grant_type": "client_credentials"}) == {
        "access_token": "x"
    }
    assert route.calls[0].request.content == b"grant_type=client_credentials"


def test_retryable_answers_are_shown_to_the_observer(api):
    seen: list[tuple[int, int]] = []
    api.get(ITEMS).mock(
        side_effect=[httpx.Response(429), httpx.Response(503), httpx.Response(200, json={})]
    )
    api.get(f"{BASE}/v1/busy").mock(return_value=httpx.Response(429))
    observed = client(on_retryable=lambda r, attempt: seen.append((r.status_code, attempt)))
    assert observed.get("/v1/items") == {}
    assert seen == [(429, 1), (503, 2)]
    seen.clear()
    with pytest.raises(ApiError):
        client(max_attempts=2, on_retryable=lambda r, a: seen.append((r.status_code, a))).get(
            "/v1/busy"
        )
    assert seen == [(429, 1), (429, 2)]  # the answer given up on is seen too


def test_transient_server_errors_and_resets_are_retried_with_jittered_backoff(api):
    """One 502, one reset connection and one 504 do not lose the answer; the waits grow
    exponentially with jitter and stay under the cap."""
    route = api.get(ITEMS).mock(
        side_effect=[
            httpx.Response(502),
            httpx.ReadError("Connection reset by peer"),
            httpx.Response(504),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    sleeps: list[float] = []
    assert client(sleeps).get("/v1/items") == {"ok": True}
    assert route.call_count == 4
    assert len(sleeps) == 3
    assert all(0 <= wait <= 2**n for n, wait in enumerate(sleeps, start=1))


def test_server_errors_that_outlast_the_retries_name_the_attempts(api):
    api.get(ITEMS).mock(return_value=httpx.Response(500))
    api.get(f"{BASE}/v1/reset").mock(side_effect=httpx.RemoteProtocolError("disconnected"))
    sleeps: list[float] = []
    with pytest.raises(ApiError) as failed:
        client(sleeps, max_attempts=3).get("/v1/items")
    assert describe_error(failed.value) == (
        "HTTP 500 Unknown on GET /v1/items: Internal Server Error (after 3 attempts)"
    )
    assert len(sleeps) == 2 and max(sleeps) <= 30.0
    with pytest.raises(ConnectionError, match=r"GET /v1/reset failed after 3 attempts: discon"):
        client(max_attempts=3).get("/v1/reset")


def test_server_errors_on_a_post_are_not_retried(api):
    """A token request is not repeated on a 502 or a reset: only GETs are idempotent."""
    route = api.post(f"{BASE}/token").mock(return_value=httpx.Response(502))
    with pytest.raises(ApiError, match="HTTP 502"):
        client().post_form("/token", {"grant_type": "client_credentials"})
    assert route.call_count == 1
    api.post(f"{BASE}/token2").mock(side_effect=httpx.ReadError("reset"))
    with pytest.raises(ConnectionError, match="POST /token2 failed: reset"):
        client().post_form("/token2", {})


def test_page_number_without_meta_reads_on_to_an_empty_page(api):
    """A server that caps ``per_page`` lower than asked sends short pages that are not the
    last: without ``meta`` only an empty page proves the list is complete."""
    route = api.get(ITEMS).mock(
        side_effect=[
            httpx.Response(200, json={"rows": [{"id": 1}, {"id": 2}]}),  # 2 of 50 asked
            httpx.Response(200, json={"rows": [{"id": 3}]}),
            httpx.Response(200, json={"rows": []}),
        ]
    )
    paging = PageNumber(items_key="rows", per_page=50)
    assert client().list("/v1/items", paging=paging) == [{"id": 1}, {"id": 2}, {"id": 3}]
    assert [c.request.url.params["page"] for c in route.calls] == ["0", "1", "2"]


def test_page_token_answer_without_its_items_field_is_an_error(api):
    """Google omits an empty collection's field, so a page without it cannot be told from a
    truncated answer: unless the caller says the list may be empty, that is an error."""
    api.get(ITEMS).mock(return_value=httpx.Response(200, json={"kind": "x#items"}))
    with pytest.raises(MalformedResponse, match="no 'items' field"):
        client().list("/v1/items", paging=PageToken(items_key="items"))
    may_be_empty = PageToken(items_key="items", may_be_empty=True)
    assert client().list("/v1/items", paging=may_be_empty) == []


def test_page_token_later_page_without_items_is_an_error(api):
    api.get(ITEMS, params={"pageToken": "p2"}).mock(
        return_value=httpx.Response(200, json={"kind": "x#items"})
    )
    api.get(ITEMS).mock(
        return_value=httpx.Response(200, json={"items": [{"id": "1"}], "nextPageToken": "p2"})
    )
    paging = PageToken(items_key="items", may_be_empty=True)
    with pytest.raises(MalformedResponse, match="no 'items' field"):
        client().list("/v1/items", paging=paging)


# --- one clear line per failure: the exact texts an ERROR record stores ---------------------


@pytest.mark.parametrize(
    ("paging", "body", "problem"),
    [
        (NextLinkField(), [], "not a JSON object"),
        (NextLinkField(), {"value": 3}, "'value' is not a list of objects"),
        (LinkHeader(), {"id": 1}, "the page is not a list of objects"),
        (LinkHeader(items_key="environments"), {"total": 0}, "the page has no 'environments'"),
        (LinkHeader(items_key="environments"), [], "the page has no 'environments'"),
        (PageNumber(items_key="rows"), {"rows": None}, "'rows' is not a list of objects"),
        (PageToken(items_key="items"), {"items": [1]}, "'items' is not a list of objects"),
        (
            PageToken(items_key="items", may_be_empty=True),
            {"nextPageToken": "p2"},  # a later page exists: this one is not an empty list
            "no 'items' field: cannot tell an empty list from an incomplete one",
        ),
    ],
)
def test_malformed_pages_name_the_request_and_the_problem(api, paging, body, problem):
    api.get(ITEMS).mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(MalformedResponse) as malformed:
        client().list("/v1/items", paging=paging)
    assert str(malformed.value) == f"malformed answer to GET /v1/items: {problem}"


def test_page_token_errors_name_the_page_asked_for(api):
    api.get(ITEMS, params={"pageToken": "p2"}).mock(
        return_value=httpx.Response(200, json={"kind": "x#items"})
    )
    api.get(ITEMS).mock(
        return_value=httpx.Response(200, json={"items": [{"id": "1"}], "nextPageToken": "p2"})
    )
    with pytest.raises(MalformedResponse) as missing:
        client().list("/v1/items", paging=PageToken(items_key="items", may_be_empty=True))
    assert str(missing.value) == (
        "malformed answer to GET /v1/items: no 'items' field: cannot tell an empty list from "
        "an incomplete one"
    )
    api.get(f"{BASE}/v1/loop").mock(
        return_value=httpx.Response(200, json={"items": [], "nextPageToken": 7})
    )
    with pytest.raises(MalformedResponse) as bad:
        client().list("/v1/loop", paging=PageToken(items_key="items"))
    assert str(bad.value) == "malformed answer to GET /v1/loop: bad page token 7"


def test_page_size_parameters(api):
    route = api.get(ITEMS).mock(return_value=httpx.Response(200, json={"items": [], "rows": []}))
    client().list("/v1/items", paging=PageToken(items_key="items", page_size=("maxResults", 500)))
    client().list("/v1/items", paging=PageNumber(items_key="rows", per_page=50))
    route.mock(return_value=httpx.Response(200, json=[]))
    client().list("/v1/items", paging=LinkHeader())
    queries = [dict(c.request.url.params) for c in route.calls]
    assert queries == [{"maxResults": "500"}, {"page": "0", "per_page": "50"}, {}]


def test_post_form_answer_that_is_not_an_object(api):
    api.post(f"{BASE}/token").mock(return_value=httpx.Response(200, json=["x"]))
    with pytest.raises(MalformedResponse) as malformed:
        client().post_form("/token", {"grant_type": "client_credentials"})
    assert str(malformed.value) == "malformed answer to POST /token: not a JSON object"


def test_post_form_names_its_declared_permission_on_403(api):
    api.post(f"{BASE}/token").mock(return_value=httpx.Response(403, json={"error": "denied"}))
    with pytest.raises(ApiError) as denied:
        client().post_form("/token", {}, requires="oauth.token")
    assert denied.value.permission == "oauth.token"


def test_permission_only_on_a_403_and_from_the_answer_when_it_says(api):
    api.get(ITEMS).mock(return_value=httpx.Response(404, json={"message": "gone"}))
    with pytest.raises(ApiError) as missing:
        client().get("/v1/items", requires="items.read")
    assert missing.value.permission is None
    assert missing.value.cause == "HTTP 404 Not Found on GET /v1/items: gone"
    api.get(f"{BASE}/v1/scoped").mock(
        return_value=httpx.Response(403, json={"message": "needs scope read:org"})
    )
    hinting = client(permission_hint=lambda m: m.rpartition("scope ")[2] or None)
    with pytest.raises(ApiError) as denied:
        hinting.get("/v1/scoped", requires="declared")
    assert denied.value.permission == "read:org"


def test_api_error_counts_one_attempt_unless_told():
    assert ApiError(500, "E", "boom", request="GET /x").cause == "HTTP 500 E on GET /x: boom"


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(599, content=b"<html>"), ("Unknown", "")),
        (
            httpx.Response(
                422,
                json={
                    "message": "Validation Failed",
                    "errors": [{"reason": "a"}, {"reason": "Validation Failed"}, {"reason": ""}],
                },
            ),
            ("Unprocessable Entity", "Validation Failed (a)"),
        ),
        (
            httpx.Response(
                422, json={"message": "Bad", "errors": [{"reason": "x"}, {"reason": "y"}]}
            ),
            ("Unprocessable Entity", "Bad (x; y)"),
        ),
        (httpx.Response(404, json={"message": "Not here"}), ("Not Found", "Not here")),
    ],
)
def test_error_fields_reasons_and_empty_phrases(response, expected):
    assert error_fields(response) == expected


def test_rate_limit_reset_falls_back_to_retry_after_with_attempt_and_clock():
    unreadable = _response(**{"X-Rate-Limit-Reset": "soon", "Retry-After": "7"})
    assert rate_limit_reset_wait(unreadable, 1, EPOCH) == 7.0
    assert rate_limit_reset_wait(_response(), 3, EPOCH) == 8.0
    dated = _response(**{"Retry-After": "Sat, 01 Jun 2024 00:00:09 GMT"})
    assert rate_limit_reset_wait(dated, 1, EPOCH) == 9.0


def test_client_defaults_a_user_relies_on(api):
    route = api.get(ITEMS).mock(return_value=httpx.Response(503))
    plain = HttpClient(base_url=f"{BASE}/", sleep=[].append, clock=lambda: EPOCH)
    with pytest.raises(ApiError, match=r"\(after 5 attempts\)"):
        plain.get("/v1/items")  # a trailing slash on the base is not doubled
    headers = route.calls[0].request.headers
    assert (headers["User-Agent"], headers["Accept"]) == ("annexa", "application/json")
    assert plain._http.timeout == httpx.Timeout(30.0, connect=10.0)
    assert client(timeout=4.0)._http.timeout == httpx.Timeout(4.0, connect=4.0)


def test_paths_and_queries(api):
    api.get(f"{BASE}/Xyz", params={"a": "1"}).mock(return_value=httpx.Response(200, json={}))
    api.get("http://other.example.com/x").mock(return_value=httpx.Response(200, json={"h": 1}))
    api.get("https://other.example.com/x").mock(return_value=httpx.Response(200, json={"s": 1}))
    assert client().get("/Xyz", params={"a": "1"}) == {}
    assert client().get_json("Xyz", params={"a": "1"}) == {}
    assert client().get("http://other.example.com/x") == {"h": 1}
    assert client().get("https://other.example.com/x") == {"s": 1}


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx.Response(200, json=[1]), "malformed answer to GET /v1/items: not a JSON object"),
        (httpx.Response(200, content=b"<html>"), "malformed answer to GET /v1/items: not JSON"),
    ],
)
def test_get_answers_that_are_not_an_object(api, answer, message):
    api.get(ITEMS).mock(return_value=answer)
    with pytest.raises(MalformedResponse) as malformed:
        client().get("/v1/items")
    assert str(malformed.value) == message


def test_a_400_is_an_error_and_a_timeout_names_its_kind(api):
    api.get(ITEMS).mock(return_value=httpx.Response(400, json={"message": "bad filter"}))
    with pytest.raises(ApiError) as bad:
        client().get("/v1/items")
    assert bad.value.cause == "HTTP 400 Bad Request on GET /v1/items: bad filter"
    api.get(f"{BASE}/v1/slow").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TimeoutError) as slow:
        client().get("/v1/slow")
    assert str(slow.value) == "GET /v1/slow timed out (ReadTimeout)"


def test_list_names_its_permission_and_refuses_a_next_link_seen_before(api):
    api.get(f"{BASE}/v1/denied").mock(return_value=httpx.Response(403, json={"message": "no"}))
    with pytest.raises(ApiError) as denied:
        client().list("/v1/denied", paging=LinkHeader(), requires="items.list")
    assert denied.value.permission == "items.list"
    api.get(ITEMS, params={"after": "b"}).mock(
        return_value=httpx.Response(
            200, json=[], headers={"Link": f'<{ITEMS}?after=b>; rel="next"'}
        )
    )
    api.get(ITEMS).mock(
        return_value=httpx.Response(
            200, json=[], headers={"Link": f'<{ITEMS}?after=b>; rel="next"'}
        )
    )
    with pytest.raises(MalformedResponse) as loop:
        client().list("/v1/items", paging=LinkHeader())
    assert str(loop.value) == f"malformed answer to GET /v1/items: bad next link '{ITEMS}?after=b'"


def test_retry_after_dates_are_read_on_the_injected_clock(api):
    api.get(ITEMS).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "Sat, 01 Jun 2024 00:00:03 GMT"}),
            httpx.Response(429, headers={"Retry-After": "Fri, 31 May 2024 23:59:00 GMT"}),
            httpx.Response(200, json={}),
        ]
    )
    sleeps: list[float] = []
    assert client(sleeps).get("/v1/items") == {}
    assert sleeps == [3.0, 0.0]  # a date already past: no wait, never a negative one


def test_an_answer_the_caller_calls_throttling_is_retried(api):
    route = api.get(ITEMS).mock(
        side_effect=[
            httpx.Response(403, headers={"X-RateLimit-Remaining": "0", "Retry-After": "2"}),
            httpx.Response(200, json={"ok": True}),
        ]
    )
    sleeps: list[float] = []
    limited = client(sleeps, throttled=lambda r: r.headers.get("X-RateLimit-Remaining") == "0")
    assert limited.get("/v1/items") == {"ok": True}
    assert (route.call_count, sleeps) == (2, [2.0])


def test_bearer_token_header(api):
    route = api.get(ITEMS).mock(return_value=httpx.Response(200, json={}))
    client(auth=bearer(lambda: "t0k")).get("/v1/items")
    assert route.calls[0].request.headers["Authorization"] == "Bearer t0k"


@dataclass(frozen=True)
class LabSettings:
    page_size: int


class LabItems(Snapshot):
    provider: ClassVar[str] = "lab"
    names: list[str]
    page_size: int
    read_at: datetime


class LabCount(Snapshot):
    provider: ClassVar[str] = "lab"
    count: int


@collects(LabItems, permissions=[])
def lab_items(scope: ApiScope[LabSettings]) -> LabItems:
    names = scope.api.get("/v1/items")["names"]
    return LabItems(names=names, page_size=scope.settings.page_size, read_at=scope.now())


@collects(LabCount, permissions=[])
def lab_count(scope: ApiScope[LabSettings]) -> LabCount:
    return LabCount(count=len(scope.get(LabItems).names))


def test_api_scope_gives_a_collector_its_client_settings_clock_and_memo(api):
    route = api.get(ITEMS).mock(return_value=httpx.Response(200, json={"names": ["a", "b"]}))
    at = datetime(2026, 1, 2, tzinfo=UTC)
    registry = build_registry([("test", sys.modules[__name__])])
    target = Target("lab", "org-1")

    def make_scope(target: Target, cache: SnapshotCache) -> ApiScope[LabSettings]:
        return ApiScope(target, client(), cache, settings=LabSettings(7), clock=lambda: at)

    cache = SnapshotCache(registry.collectors, make_scope)
    assert cache.get(LabCount, target) == LabCount(count=2)
    assert cache.get(LabItems, target) == LabItems(names=["a", "b"], page_size=7, read_at=at)
    assert route.call_count == 1  # the second collector read the first through the memo
    scope = make_scope(target, cache)
    assert (scope.target, scope.settings) == (target, LabSettings(7))


def test_api_scope_reads_the_utc_clock_by_default():
    scope = ApiScope(Target("lab", "org-1"), client(), None, settings=None)  # type: ignore[arg-type]
    before = datetime.now(UTC)
    assert before <= scope.now() <= datetime.now(UTC)
