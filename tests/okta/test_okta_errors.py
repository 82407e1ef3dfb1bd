"""Okta failures through the real client: rejected tokens, denied scopes, rate limits (429 with
``X-Rate-Limit-Reset``), malformed pages; and the OAuth service app's private_key_jwt."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from checks.okta.models import OktaMfaPolicies, OktaUsers
from collector.causes import describe_error
from collector.collect import Target
from collector.http import ApiError, MalformedResponse
from collector.okta.accounts import resolve_accounts
from collector.okta.auth import SCOPES
from collector.snapshots import SnapshotCache
from tests.http.keys import rsa_private_pem
from tests.okta.wire import ENVIRON, NOW, ORG, REGISTRY, SETTINGS, answer, serve_org, url

USERS = url("/api/v1/users")
TOKEN = url("/oauth2/v1/token")
RESET_DATE = "Sat, 01 Jun 2024 00:00:00 GMT"  # epoch 1717200000


@pytest.fixture
def api():
    with respx.mock(assert_all_called=False) as router:
        yield router


def accounts(settings=SETTINGS, sleeps: list[float] | None = None, environ=ENVIRON):
    return resolve_accounts(
        settings,
        environ=environ,
        clock=lambda: NOW,
        sleep=(sleeps if sleeps is not None else []).append,
        epoch=lambda: 1_717_200_000.0,
    )


def collect(kind, **kwargs):
    (account,) = accounts(**kwargs)
    assert account.make_scope is not None, account.error
    return SnapshotCache(REGISTRY.collectors, account.make_scope).get(kind, Target("okta", ORG))


def test_rejected_api_token_is_an_account_error(api):
    api.get(USERS).mock(return_value=answer("error_invalid_token", 401))
    (account,) = accounts()
    assert (account.account, account.make_scope) == (ORG, None)
    assert account.error == (
        "cannot access Okta org example.okta.com: HTTP 401 E0000011 on GET /api/v1/users: "
        "Invalid token provided"
    )


def test_missing_token_variable_is_an_account_error():
    (account,) = accounts(environ={})
    assert account.error == (
        "cannot access Okta org example.okta.com: OktaAuthError: environment variable "
        "OKTA_TEST_TOKEN is not set"
    )


def test_denied_scope_is_named(api):
    serve_org(api)
    api.get(url("/api/v1/policies"), params={"type": "OKTA_SIGN_ON"}).mock(
        return_value=answer("error_forbidden", 403)
    )
    with pytest.raises(ApiError) as denied:
        collect(OktaMfaPolicies)
    assert describe_error(denied.value) == (
        "HTTP 403 E0000006 on GET /api/v1/policies: You do not have permission to perform the "
        "requested action (missing permission: okta.policies.read)"
    )


def test_429_waits_until_rate_limit_reset(api):
    throttled = answer(
        "error_rate_limit", 429, **{"X-Rate-Limit-Reset": "1717200017", "Date": RESET_DATE}
    )
    page = answer("users_page2")
    api.get(USERS, params={"limit": "200"}).mock(side_effect=[throttled, page])
    serve_org(api)  # after: the first matching route answers
    sleeps: list[float] = []
    users = collect(OktaUsers, sleeps=sleeps)
    assert sleeps == [17.0]  # reset minus the server's Date
    assert len(users.users) == 3


def test_429_without_date_uses_the_clock_and_exhaustion_is_an_error(api):
    throttled = answer("error_rate_limit", 429, **{"X-Rate-Limit-Reset": "1717200600"})
    api.get(USERS, params={"limit": "200"}).mock(return_value=throttled)
    serve_org(api)
    sleeps: list[float] = []
    with pytest.raises(ApiError) as failed:
        collect(OktaUsers, sleeps=sleeps)
    assert sleeps == [60.0] * 4  # 600 s asked, capped at a minute; five attempts
    assert describe_error(failed.value) == (
        "HTTP 429 E0000047 on GET /api/v1/users: API call exceeded rate limit due to too many "
        "requests. (after 5 attempts)"
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [({"users": []}, "the page is not a list of objects"), (["00u1"], "the page is not a list")],
)
def test_malformed_page_is_an_error(api, body, problem):
    api.get(USERS, params={"limit": "200"}).mock(return_value=httpx.Response(200, json=body))
    serve_org(api)
    with pytest.raises(MalformedResponse, match=problem):
        collect(OktaUsers)


def _service_app(tmp_path: Path):
    key = tmp_path / "okta-service-app.pem"
    key.write_text(rsa_private_pem())
    return SETTINGS.model_copy(
        update={
            "auth": "private_key_jwt",
            "client_id": "0oa1serviceEXAMPLE",
            "private_key_file": key,
            "key_id": "annexa-key-1",
        }
    )


def test_private_key_jwt_exchanges_a_signed_assertion_once(api, tmp_path):
    serve_org(api)
    token = api.post(TOKEN).mock(return_value=answer("token"))
    users = collect(OktaUsers, settings=_service_app(tmp_path))
    assert len(users.users) == 6
    assert token.call_count == 1  # reused for the probe and both pages
    form = parse_qs(token.calls[0].request.content.decode())
    assert form["grant_type"] == ["client_credentials"]
    assert form["scope"] == [" ".join(SCOPES)]
    assertion = form["client_assertion"][0]
    public = load_pem_private_key(rsa_private_pem().encode(), None).public_key()
    claims = jwt.decode(
        assertion, public, algorithms=["RS256"], audience=TOKEN, options={"verify_exp": False}
    )  # signed with the injected clock: 2024-06-01
    assert claims["iss"] == claims["sub"] == "0oa1serviceEXAMPLE"
    assert (claims["iat"], claims["exp"]) == (1_717_200_000, 1_717_200_300)
    assert jwt.get_unverified_header(assertion)["kid"] == "annexa-key-1"
    used = api.calls.last.request.headers["Authorization"]
    assert used == "Bearer eyJraWQiOiJleGFtcGxlIn0.example-okta-access-token"


def test_private_key_jwt_rejected_is_an_account_error(api, tmp_path):
    api.post(TOKEN).mock(return_value=answer("token_invalid_client", 401))
    (account,) = accounts(settings=_service_app(tmp_path))
    assert account.error == (
        "cannot access Okta org example.okta.com: HTTP 401 invalid_client on POST "
        "/oauth2/v1/token: The client_assertion signature is invalid."
    )
