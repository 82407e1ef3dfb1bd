"""Credentials and account resolution: a real ClientSecretCredential against a mocked login
endpoint, subscription discovery with include/exclude, and unresolvable tenants."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
import respx

from collector.azure.accounts import resolve_accounts
from collector.azure.credentials import make_credential
from collector.settings import AzureSettings, AzureTenant
from tests.azure.fakes import SUBSCRIPTION, TENANT, FakeCredential, arm, fake_jwt, serve

LOGIN = f"https://login.microsoftonline.com/{TENANT}"
SANDBOX = "22222222-2222-4222-8222-222222222222"


def login_mock(status: int = 200, token: dict | None = None) -> responses.RequestsMock:
    """Microsoft's login endpoint as MSAL (through azure-core's requests transport) sees it."""
    mock = responses.RequestsMock(assert_all_requests_are_fired=False)
    mock.get(  # MSAL asks this when a token request fails
        "https://login.microsoftonline.com/common/discovery/instance",
        json={
            "tenant_discovery_endpoint": f"{LOGIN}/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [
                {
                    "preferred_network": "login.microsoftonline.com",
                    "preferred_cache": "login.windows.net",
                    "aliases": ["login.microsoftonline.com", "login.windows.net"],
                }
            ],
        },
    )
    mock.get(
        f"{LOGIN}/v2.0/.well-known/openid-configuration",
        json={
            "token_endpoint": f"{LOGIN}/oauth2/v2.0/token",
            "authorization_endpoint": f"{LOGIN}/oauth2/v2.0/authorize",
            "issuer": f"https://login.microsoftonline.com/{TENANT}/v2.0",
        },
    )
    answer = token or {"token_type": "Bearer", "expires_in": 3599, "access_token": fake_jwt()}
    mock.post(f"{LOGIN}/oauth2/v2.0/token", status=status, json=answer)
    return mock


@pytest.fixture
def login() -> Iterator[responses.RequestsMock]:
    with login_mock() as mock:
        yield mock


def tenant(**fields: object) -> AzureTenant:
    return AzureTenant(tenant_id=TENANT, **fields)  # type: ignore[arg-type]


def resolve(settings: AzureSettings, provider: str = "azure"):  # type: ignore[no-untyped-def]
    return resolve_accounts(settings, provider, credential_factory=lambda t: FakeCredential())


def test_client_secret_credential_end_to_end(
    api: respx.MockRouter, login: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANNEXA_TEST_SECRET", "not-a-real-secret")
    serve(api, arm("/subscriptions"), "arm/subscriptions.json", **{"api-version": "2022-12-01"})
    entry = tenant(
        credential="client_secret", client_id="app-id", client_secret_env="ANNEXA_TEST_SECRET"
    )
    accounts = resolve_accounts(AzureSettings(tenants=[entry]), "azure")

    assert [(a.account, a.error) for a in accounts] == [(SUBSCRIPTION, None), (SANDBOX, None)]
    token_call = next(c for c in login.calls if c.request.url.endswith("/token"))
    form = token_call.request.body
    assert "client_secret=not-a-real-secret" in form and "client_id=app-id" in form
    assert "management.azure.com%2F.default" in form
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {fake_jwt()}"


def test_missing_secret_variable_is_an_error_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANNEXA_TEST_SECRET", raising=False)
    entry = tenant(
        credential="client_secret", client_id="a", client_secret_env="ANNEXA_TEST_SECRET"
    )
    accounts = resolve_accounts(AzureSettings(tenants=[entry]), "entra")
    assert [(a.provider, a.account, a.error) for a in accounts] == [
        (
            "entra",
            TENANT,
            f"cannot access tenant {TENANT}: CredentialError: environment variable "
            "ANNEXA_TEST_SECRET is not set",
        )
    ]


def test_config_rejects_incomplete_credentials() -> None:
    with pytest.raises(
        ValueError, match="credential certificate needs client_id, certificate_path"
    ):
        tenant(credential="certificate")


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("default", "DefaultAzureCredential"),
        ("workload_identity", "WorkloadIdentityCredential"),
    ],
)
def test_credential_kinds(kind: str, cls: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    token_file = tmp_path / "token"
    token_file.write_text("federated")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    credential = make_credential(tenant(credential=kind, client_id="app-id"))
    assert type(credential).__name__ == cls


def test_discovery_keeps_the_tenants_enabled_subscriptions(api: respx.MockRouter) -> None:
    serve(api, arm("/subscriptions"), "arm/subscriptions.json")
    found = resolve(AzureSettings(tenants=[tenant()]))
    # Disabled and other-tenant subscriptions are skipped
    assert [(a.provider, a.account, a.error) for a in found] == [
        ("azure", SUBSCRIPTION, None),
        ("azure", SANDBOX, None),
    ]
    assert all(a.make_scope is not None for a in found)

    only = resolve(AzureSettings(tenants=[tenant(include=["prod*"])]))
    assert [a.account for a in only] == [SUBSCRIPTION]
    rest = resolve(AzureSettings(tenants=[tenant(exclude=[SUBSCRIPTION])]))
    assert [a.account for a in rest] == [SANDBOX]
    none = resolve(AzureSettings(tenants=[tenant(exclude=["*"])]))
    assert none[0].account == TENANT and "no enabled subscription visible" in (none[0].error or "")


def test_listed_subscription_that_cannot_be_read_is_an_error_account(api: respx.MockRouter) -> None:
    serve(api, arm(f"/subscriptions/{SUBSCRIPTION}"), "arm/subscription.json")
    serve(
        api, arm(f"/subscriptions/{SANDBOX}"), "arm/error_subscription_not_found.json", status=404
    )
    found = resolve(AzureSettings(tenants=[tenant(subscriptions=[SUBSCRIPTION, SANDBOX])]))
    assert [(a.account, a.error) for a in found] == [
        (SUBSCRIPTION, None),
        (
            SANDBOX,
            f"cannot access subscription {SANDBOX}: HTTP 404 SubscriptionNotFound on GET "
            f"/subscriptions/{SANDBOX}: The subscription '{SANDBOX}' could not be found.",
        ),
    ]


def test_token_from_another_tenant_is_refused() -> None:
    settings = AzureSettings(tenants=[tenant()])
    other = "99999999-9999-4999-8999-999999999999"
    found = resolve_accounts(settings, "intune", credential_factory=lambda t: FakeCredential(other))
    assert found[0].error == (
        f"cannot access tenant {TENANT}: CredentialError: the credential signed in to tenant "
        f"{other}, not {TENANT}"
    )


def test_graph_providers_get_one_account_per_tenant() -> None:
    second = AzureTenant(tenant_id="99999999-9999-4999-8999-999999999999", name="subsidiary")
    settings = AzureSettings(tenants=[tenant(), second])
    factory = {TENANT: FakeCredential(), second.tenant_id: FakeCredential(second.tenant_id)}
    found = resolve_accounts(settings, "entra", credential_factory=lambda t: factory[t.tenant_id])
    assert [(a.provider, a.account, a.error) for a in found] == [
        ("entra", TENANT, None),
        ("entra", second.tenant_id, None),
    ]
    assert factory[TENANT].scopes == ["https://graph.microsoft.com/.default"]


def test_rejected_secret_is_an_error_account_without_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rejected = login_mock(
        401,
        {
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the "
            "secret being sent in the request is the client secret value.",
            "error_codes": [7000215],
        },
    )
    monkeypatch.setenv("ANNEXA_TEST_SECRET", "wrong-secret-value")
    entry = tenant(
        credential="client_secret", client_id="app-id", client_secret_env="ANNEXA_TEST_SECRET"
    )
    with rejected:
        [account] = resolve_accounts(AzureSettings(tenants=[entry]), "entra")
    assert account.make_scope is None and account.error is not None
    assert "AADSTS7000215: Invalid client secret provided" in account.error
    assert "wrong-secret-value" not in account.error
