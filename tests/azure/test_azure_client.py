"""The shared HTTP client: paging, Retry-After on 429/503, timeouts, typed errors."""

from __future__ import annotations

import httpx
import pytest
import respx

from collector.azure.client import ARM_SCOPE, ARM_URL, GRAPH_SCOPE, GRAPH_URL, ApiClient
from collector.azure.errors import AzureApiError, MalformedResponse
from collector.causes import describe_error
from tests.azure.fakes import FakeCredential, graph, recording, serve

USERS = graph("/users")


def client(sleeps: list[float], *, base: str = GRAPH_URL, attempts: int = 3) -> ApiClient:
    scope = GRAPH_SCOPE if base == GRAPH_URL else ARM_SCOPE
    return ApiClient(
        FakeCredential(), base_url=base, scope=scope, max_attempts=attempts, sleep=sleeps.append
    )


def test_429_retried_after_retry_after(api: respx.MockRouter) -> None:
    throttled = httpx.Response(
        429, json=recording("graph/error_throttled.json"), headers={"Retry-After": "7"}
    )
    route = api.get(USERS).mock(
        side_effect=[throttled, httpx.Response(200, json={"value": [{"id": "u1"}]})]
    )
    sleeps: list[float] = []
    assert client(sleeps).list("/users") == [{"id": "u1"}]
    assert sleeps == [7.0] and route.call_count == 2
    assert route.calls[0].request.headers["Authorization"].startswith("Bearer ey")


def test_retry_after_is_capped_and_503_exhaustion_is_an_error(api: respx.MockRouter) -> None:
    unavailable = httpx.Response(503, headers={"Retry-After": "3600"}, text="busy")
    api.get(USERS).mock(return_value=unavailable)
    sleeps: list[float] = []
    with pytest.raises(AzureApiError) as failed:
        client(sleeps).list("/users")
    assert sleeps == [30.0, 30.0]  # three attempts, two capped waits
    assert describe_error(failed.value) == (
        "HTTP 503 Unknown on GET /v1.0/users: Service Unavailable (after 3 attempts)"
    )


def test_pinned_api_version_and_arm_next_link(api: respx.MockRouter) -> None:
    base = f"{ARM_URL}/subscriptions/s/providers/Microsoft.KeyVault/vaults"
    serve(api, base, body={"value": [{"id": "v2"}]}, skiptoken="2")
    first = serve(
        api,
        base,
        body={"value": [{"id": "v1"}], "nextLink": f"{base}?api-version=2023-07-01&skiptoken=2"},
    )
    listed = client([], base=ARM_URL).list(
        "/subscriptions/s/providers/Microsoft.KeyVault/vaults", api_version="2023-07-01"
    )
    assert listed == [{"id": "v1"}, {"id": "v2"}]
    assert first.calls[0].request.url.params["api-version"] == "2023-07-01"


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (httpx.Response(200, json={"items": []}), "'value' is not a list of objects"),
        (httpx.Response(200, json={"value": ["x"]}), "'value' is not a list of objects"),
        (httpx.Response(200, json=[1]), "not a JSON object"),
        (httpx.Response(200, text="<html>gateway</html>"), "not JSON"),
        (
            httpx.Response(200, json={"value": [], "@odata.nextLink": "http://evil.example"}),
            "bad next link",
        ),
    ],
)
def test_malformed_pages_raise(api: respx.MockRouter, answer: httpx.Response, problem: str) -> None:
    api.get(USERS).mock(return_value=answer)
    with pytest.raises(MalformedResponse, match=problem):
        client([]).list("/users")


def test_next_link_loop_is_malformed(api: respx.MockRouter) -> None:
    looping = {"value": [{"id": "u"}], "@odata.nextLink": f"{USERS}?$skiptoken=same"}
    api.get(USERS).mock(return_value=httpx.Response(200, json=looping))
    with pytest.raises(MalformedResponse, match="bad next link"):
        client([]).list("/users")


def test_timeout_is_a_timeout_error(api: respx.MockRouter) -> None:
    api.get(USERS).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(TimeoutError) as timed_out:
        client([]).list("/users")
    assert describe_error(timed_out.value) == "timed out: GET /v1.0/users timed out (ReadTimeout)"
