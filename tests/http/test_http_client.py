"""The shared HTTP client on its own: each paging style, each wait policy, error shapes, and
the guards (next links on another host, repeated page tokens, timeouts)."""

from __future__ import annotations

import httpx
import pytest
import respx

from collector.causes import describe_error
from collector.http import (
    ApiError,
    HttpClient,
    LinkHeader,
    MalformedResponse,
    NextLinkField,
    PageNumber,
    PageToken,
    error_fields,
    rate_limit_reset_wait,
    retry_after_wait,
    ssws,
)

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
