"""The demo's identity side: Okta as the source of truth and the ``acme`` GitHub organisation,
both recorded API answers served to the real collectors (the tests serve the same GitHub
organisation). Bob is suspended in Okta but keeps his AWS console password, an Identity
Center assignment and his GitHub membership: the leavers check's finding."""

from __future__ import annotations

from pathlib import Path

from collector.accounts import Account
from collector.github.accounts import resolve_accounts as github_accounts
from collector.github.recorded import API, ORG, recorded_org
from collector.identity.accounts import resolve_accounts as identity_accounts
from collector.okta.accounts import resolve_accounts as okta_accounts
from collector.recorded import Recorded
from collector.settings import GithubSettings, IdentitySettings, OktaSettings

RECORDINGS = Path(__file__).parent / "recordings"
OKTA_URL = "https://acme.okta.com"
#: the demo's settings for the sections it fills in (credentials are placeholders)
OKTA = OktaSettings(org_url=OKTA_URL, token_env="DEMO_OKTA_TOKEN")
GITHUB = GithubSettings(organizations=[ORG], token_env="DEMO_GITHUB_TOKEN")
IDENTITY = IdentitySettings(
    source="okta",
    aliases=RECORDINGS / "aliases.yaml",
    match_local_part=True,
    ignore=["iam:ci-deploy"],
)
ENVIRON = {"DEMO_OKTA_TOKEN": "demo-okta-token", "DEMO_GITHUB_TOKEN": "demo-github-token"}


def demo_accounts() -> list[Account]:
    """The recorded Okta org, GitHub organisation and the identity source of truth."""
    okta = Recorded(RECORDINGS, {"/api/v1/users": "okta_users"}, OKTA_URL)
    return [
        *okta_accounts(OKTA, environ=ENVIRON, http=okta.client()),
        *github_accounts(GITHUB, environ=ENVIRON, http=recorded_org(API).client()),
        *identity_accounts(IDENTITY),
    ]
