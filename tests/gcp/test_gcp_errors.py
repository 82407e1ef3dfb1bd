"""Failures: denied permissions, rejected credentials and quota become ERROR with a cause,
for the GCP checks that needed the failed call only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth.credentials import AnonymousCredentials
from google.oauth2.credentials import Credentials as UserCredentials

from checks.gcp.models import GcpBuckets, GcpNetworks
from collector.causes import describe_error
from collector.collect import Target
from collector.gcp.accounts import make_client, resolve_accounts
from collector.gcp.scope import GcpScope, default_retry
from collector.osquery.host import resolve_accounts as osquery_accounts
from collector.runner import Runner
from collector.settings import GcpSettings
from collector.snapshots import SnapshotCache
from storage import EvidenceStore
from tests.gcp.conftest import NOW, anonymous_accounts
from tests.gcp.server import ORG, AssetApi, Route, error, org_routes, recording, serve
from tests.osquery.recorded import RecordedRunner
from tests.osquery.test_osquery_host import ENABLED

NETWORKS = Route(f"/v1/{ORG}:searchAllResources", ("compute.googleapis.com/Network",))
BUCKETS = Route(f"/v1/{ORG}/assets", ("storage.googleapis.com/Bucket",), "1")
DENIED = (
    "access denied: cloudasset.assets.searchAllResources (Permission "
    "'cloudasset.assets.searchAllResources' denied on resource 'organizations/100200300' "
    "(or it may not exist).)"
)


def test_denied_permission_is_error_for_its_checks_only(registry, tmp_path):
    api = AssetApi(org_routes() | {NETWORKS: [error("denied_with_info")]})
    gcp_checks = registry.select(provider="gcp")
    with serve(api) as endpoint, EvidenceStore.open(f"sqlite:///{tmp_path / 'e.db'}") as store:
        result = Runner(registry, store, clock=lambda: NOW).run(
            gcp_checks, anonymous_accounts(endpoint)
        )
    by_check = {r.check_id: r for r in result.records}
    assert by_check["gcp.compute.default_network_absent"].status == "error"
    assert by_check["gcp.compute.default_network_absent"].error == DENIED
    others = {r.status for c, r in by_check.items() if c != "gcp.compute.default_network_absent"}
    assert others == {"fail"}  # each recorded check has a failing resource
    assert len(by_check) == len(gcp_checks) == 20


def test_denied_without_details_names_the_permission_the_call_needs(endpoint, api, registry):
    api.routes[BUCKETS] = [error("denied_plain")]
    (account,) = anonymous_accounts(endpoint)
    cache = SnapshotCache(registry.collectors, account.make_scope)
    with pytest.raises(Exception) as caught:
        cache.get(GcpBuckets, Target("gcp", ORG))
    assert describe_error(caught.value) == (
        "access denied: cloudasset.assets.listResource (The caller does not have permission)"
    )


def test_token_rejected_after_refresh(endpoint, api, registry):
    """A 401 makes google-auth refresh the token and try again; a second 401 is the cause."""
    api.routes[NETWORKS] = [error("unauthenticated")]
    api.routes[Route("/token")] = [
        (200, {"access_token": "ya29.example-2", "expires_in": 3599, "token_type": "Bearer"})
    ]
    credentials = UserCredentials(
        token="ya29.example-1",
        refresh_token="1//example-refresh",
        client_id="example.apps.googleusercontent.com",
        client_secret="example-only",
        token_uri=f"{endpoint}/token",
    )
    settings = GcpSettings(scopes=[ORG], api_endpoint=endpoint)
    (account,) = resolve_accounts(settings, credential_factory=lambda _: credentials)
    cache = SnapshotCache(registry.collectors, account.make_scope)
    with pytest.raises(Exception) as caught:
        cache.get(GcpNetworks, Target("gcp", ORG))
    assert describe_error(caught.value).startswith(
        "credentials rejected (401): Request had invalid authentication credentials."
    )
    paths = [p for p, _ in api.requests]
    assert paths[0] == paths[-1] == NETWORKS.path and "/token" in paths


def _scope(endpoint: str, registry, deadline: float) -> GcpScope:
    settings = GcpSettings(scopes=[ORG], api_endpoint=endpoint)
    client = make_client(AnonymousCredentials(), settings)
    cache = SnapshotCache(registry.collectors, lambda t, c: None)  # type: ignore[arg-type,return-value]
    return GcpScope(
        Target("gcp", ORG),
        client,
        cache,
        settings=settings,
        retry=default_retry(initial=0.01, deadline=deadline),
    )


def test_quota_is_retried(endpoint, api, registry):
    first = Route(f"/v1/{ORG}:searchAllIamPolicies")
    api.routes[first] = [error("quota"), error("quota"), *api.routes[first]]
    results = list(_scope(endpoint, registry, deadline=10).search_iam_policies())
    assert len(results) == 4
    assert sum(p.endswith(":searchAllIamPolicies") for p, _ in api.requests) == 4


def test_quota_outlasting_the_retries_is_an_error(endpoint, api, registry):
    api.routes[NETWORKS] = [error("quota")]
    with pytest.raises(Exception) as caught:
        list(_scope(endpoint, registry, deadline=0.3).search_resources(NETWORKS.asset_types))
    assert describe_error(caught.value).startswith(
        "gave up retrying: 429 TooManyRequests: Quota exceeded for quota metric"
    )


def _key_file(tmp_path: Path, token_uri: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path = tmp_path / "annexa-sa.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "annexa-prod",
                "private_key_id": "0123456789abcdef0123456789abcdef01234567",
                "private_key": pem,
                "client_email": "annexa-audit@annexa-prod.iam.gserviceaccount.com",
                "client_id": "104857600000000000042",
                "token_uri": token_uri,
            }
        )
    )
    return path


def test_rejected_key_file_is_error_for_every_scope(tmp_path):
    api = AssetApi({Route("/token"): [(400, recording("org/errors.json")["invalid_grant"])]})
    with serve(api) as endpoint:
        settings = GcpSettings(
            scopes=[ORG, "projects/annexa-prod"],
            credentials="service_account_file",
            key_file=_key_file(tmp_path, f"{endpoint}/token"),
            api_endpoint=endpoint,
        )
        accounts = resolve_accounts(settings)
    assert [(a.account, a.make_scope) for a in accounts] == [
        (ORG, None),
        ("projects/annexa-prod", None),
    ]
    assert accounts[0].error is not None
    assert accounts[0].error.startswith(
        "cannot authenticate to Google Cloud: credentials rejected: invalid_grant: "
        "Invalid JWT Signature."
    )
    assert [p for p, _ in api.requests] == ["/token"]


def test_key_file_of_the_wrong_kind(tmp_path):
    path = tmp_path / "wif.json"
    path.write_text(json.dumps({"type": "external_account", "audience": "//iam.example"}))
    settings = GcpSettings(scopes=[ORG], credentials="service_account_file", key_file=path)
    (account,) = resolve_accounts(settings)
    assert account.error == (
        f"cannot authenticate to Google Cloud: ValueError: {path} has type "
        "'external_account', expected service_account"
    )


def test_workload_identity_federation_exchange_rejected(tmp_path):
    api = AssetApi({Route("/v1/token"): [(400, recording("org/errors.json")["invalid_grant"])]})
    subject = tmp_path / "oidc-token"
    subject.write_text("eyJhbGciOiJSUzI1NiJ9.example.signature")
    with serve(api) as endpoint:
        config = tmp_path / "wif.json"
        config.write_text(
            json.dumps(
                {
                    "type": "external_account",
                    "audience": "//iam.googleapis.com/projects/111111111111/locations/global/"
                    "workloadIdentityPools/annexa/providers/ci",
                    "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
                    "token_url": f"{endpoint}/v1/token",
                    "credential_source": {"file": str(subject)},
                }
            )
        )
        settings = GcpSettings(
            scopes=[ORG], credentials="workload_identity_federation", key_file=config
        )
        (account,) = resolve_accounts(settings)
    assert account.error is not None
    assert account.error.startswith("cannot authenticate to Google Cloud: credentials rejected: ")
    assert "invalid_grant" in account.error
    assert [p for p, _ in api.requests] == ["/v1/token"]


def test_no_application_default_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    (account,) = resolve_accounts(GcpSettings(scopes=[ORG]))
    assert account.error == (
        "cannot authenticate to Google Cloud: no Google credentials found "
        "(gcloud auth application-default login, or key_file)"
    )


def test_disabled_or_unconfigured_resolves_nothing():
    assert resolve_accounts(GcpSettings()) == []
    assert resolve_accounts(GcpSettings(scopes=[ORG], enabled=False)) == []


def test_gcp_auth_failure_leaves_other_providers_alone(registry, tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    accounts = resolve_accounts(GcpSettings(scopes=[ORG])) + osquery_accounts(
        ENABLED,  # the minimums the recorded host is judged by
        runner=RecordedRunner("darwin-current"),
        hostname=lambda: "darwin-current",
    )
    checks = registry.select(provider="gcp") + registry.select(provider="osquery")
    with EvidenceStore.open(f"sqlite:///{tmp_path / 'e.db'}") as store:
        records = Runner(registry, store).run(checks, accounts).records
    statuses = {(r.provider, r.status) for r in records}
    assert statuses == {("gcp", "error"), ("osquery", "pass")}
    assert {r.error for r in records if r.provider == "gcp"} == {
        "cannot authenticate to Google Cloud: no Google credentials found "
        "(gcloud auth application-default login, or key_file)"
    }


def test_disabled_asset_api_says_which_api_to_enable(endpoint, api, registry):
    """Google answers a disabled API with 403 PERMISSION_DENIED and an ErrorInfo whose reason
    is SERVICE_DISABLED (cloud.google.com/apis/design/errors): no role would fix it."""
    api.routes[BUCKETS] = [error("service_disabled")]
    (account,) = anonymous_accounts(endpoint)
    cache = SnapshotCache(registry.collectors, account.make_scope)
    with pytest.raises(Exception) as caught:
        cache.get(GcpBuckets, Target("gcp", ORG))
    assert describe_error(caught.value) == (
        "Cloud Asset API (cloudasset.googleapis.com) is disabled in project 222233334444: "
        "enable it (gcloud services enable cloudasset.googleapis.com --project 222233334444), "
        "or with user credentials set gcp.quota_project to a project where it is enabled"
    )
