"""A recorded GitHub organisation, ``acme``, in the REST API's documented shapes (each
recording names its reference page): served to the real client by ``annexa demo`` and by the
tests. Members, repositories, Dependabot alerts and one repository's environments come in two
``Link``-header pages (``per_page=2``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from collector.recorded import Recorded

API = "https://api.github.com"
ORG = "acme"
RECORDINGS = Path(__file__).parent / "recordings"
#: path -> recording, or {"param=value": recording, "": default}
ROUTES: dict[str, Any] = {
    "/orgs/acme": "org",
    "/orgs/acme/members": {"role=admin": "members_admins", "": "members_page1"},
    "/organizations/9919/members": {"page=2": "members_page2"},
    "/orgs/acme/repos": "repos_page1",
    "/organizations/9919/repos": {"page=2": "repos_page2"},
    "/repos/acme/api/branches/main/protection": "protection_not_protected",
    "/repos/acme/web/branches/main/protection": "protection_web",
    "/repos/acme/infra/branches/main/protection": "protection_not_protected",
    "/repos/acme/api/rules/branches/main": "rules_api",
    "/repos/acme/web/rules/branches/main": "rules_none",
    "/repos/acme/infra/rules/branches/main": "rules_infra",
    "/repos/acme/api/rulesets/42": "ruleset_42",
    "/orgs/acme/rulesets/7": "ruleset_org_7",
    "/repos/acme/api/keys": "keys_api",
    "/repos/acme/web/keys": "keys_web",
    "/repos/acme/infra/keys": "keys_none",
    "/repos/acme/api/collaborators": "collaborators_api",
    "/repos/acme/web/collaborators": "collaborators_web",
    "/repos/acme/infra/collaborators": "collaborators_none",
    "/repos/acme/api/environments": "environments_api",
    "/repos/acme/web/environments": "environments_web_page1",
    "/repositories/502/environments": {"page=2": "environments_web_page2"},
    "/repos/acme/infra/environments": "environments_none",
    "/orgs/acme/dependabot/alerts": "dependabot_page1",
    "/organizations/9919/dependabot/alerts": {"after=Y3Vyc29yOjI=": "dependabot_page2"},
    "/orgs/acme/code-scanning/alerts": "code_scanning",
    "/orgs/acme/audit-log": "audit_log",
}


def recorded_org(base: str = API, overrides: dict[str, Any] | None = None) -> Recorded:
    """The ``acme`` organisation served at ``base`` (github.com's API, or a GHES one)."""
    return Recorded(RECORDINGS, ROUTES | (overrides or {}), base, recorded_base=API)
