"""How annexa authenticates to Okta: an API token, or an OAuth 2.0 service app.

The service app signs a short-lived client assertion (``private_key_jwt``, RS256) and exchanges
it at ``/oauth2/v1/token`` for an access token with read-only scopes; the token is reused
until a minute before it expires. Secrets come from the environment or a key file and are
never stored or logged.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

import jwt

from collector.http import Auth, HttpClient, bearer, ssws
from collector.settings import OktaSettings

TOKEN_PATH = "/oauth2/v1/token"
#: Read-only scopes a service app is granted (Okta API Scopes tab of the app).
SCOPES = ("okta.users.read", "okta.policies.read", "okta.roles.read", "okta.factors.read")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class OktaAuthError(Exception):
    """The configured Okta credential cannot be used (a missing environment variable...)."""


def api_token(settings: OktaSettings, environ: Mapping[str, str] = os.environ) -> Auth:
    """``Authorization: SSWS <token>`` from the environment variable the config names."""
    token = environ.get(settings.token_env)
    if not token:
        raise OktaAuthError(f"environment variable {settings.token_env} is not set")
    return ssws(token)


def client_assertion(
    client_id: str, token_url: str, private_key: str, key_id: str | None, now: float
) -> str:
    """The signed JWT a service app authenticates with (valid five minutes, used once)."""
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": token_url,
        "iat": int(now),
        "exp": int(now) + 300,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(
        claims, private_key, algorithm="RS256", headers={"kid": key_id} if key_id else None
    )


class ServiceAppToken:
    """Access tokens for an OAuth service app, exchanged and cached."""

    def __init__(
        self,
        settings: OktaSettings,
        client: HttpClient,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        assert settings.client_id and settings.private_key_file and settings.org_url
        self._settings = settings
        self._client = client
        self._clock = clock
        self._key = Path(settings.private_key_file).read_text()
        self._token: str | None = None
        self._expires = 0.0

    def __call__(self) -> str:
        now = self._clock()
        if self._token is None or now >= self._expires - 60:
            settings = self._settings
            assert settings.client_id and settings.org_url
            answer = self._client.post_form(
                TOKEN_PATH,
                {
                    "grant_type": "client_credentials",
                    "scope": " ".join(SCOPES),
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": client_assertion(
                        settings.client_id,
                        settings.org_url + TOKEN_PATH,
                        self._key,
                        settings.key_id,
                        now,
                    ),
                },
            )
            token = answer.get("access_token")
            if not isinstance(token, str) or not token:
                raise OktaAuthError("the token endpoint answered without an access_token")
            self._token = token
            self._expires = now + float(answer.get("expires_in") or 3600)
        return self._token


def service_app(settings: OktaSettings, client: HttpClient, clock: Callable[[], float]) -> Auth:
    """Bearer auth with service-app tokens (the first one fetched by the first request)."""
    return bearer(ServiceAppToken(settings, client, clock=clock))
