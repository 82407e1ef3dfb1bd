"""Okta password policies and the sign-on / authentication policies whose rules decide MFA."""

from __future__ import annotations

from typing import Any

from checks.okta.models import (
    OktaMfaPolicies,
    OktaMfaPolicy,
    OktaMfaRule,
    OktaPasswordPolicies,
    OktaPasswordPolicy,
)
from collector.collect import collects
from collector.http import ApiScope, LinkHeader
from collector.settings import OktaSettings

POLICIES = "okta.policies.read"
PAGING = LinkHeader()
_CLASSES = {
    "minLowerCase": "lower",
    "minUpperCase": "upper",
    "minNumber": "number",
    "minSymbol": "symbol",
}
_ANY = {"network": ("connection", "ANYWHERE"), "authContext": ("authType", "ANY"),
        "identityProvider": ("provider", "ANY"), "riskScore": ("level", "ANY")}  # fmt: skip

Scope = ApiScope[OktaSettings]


def _policies(scope: Scope, kind: str) -> list[dict[str, Any]]:
    listed = scope.api.list(
        "/api/v1/policies", paging=PAGING, params={"type": kind}, requires=POLICIES
    )
    return sorted(
        (p for p in listed if p.get("status") == "ACTIVE"), key=lambda p: p.get("priority", 0)
    )


@collects(OktaPasswordPolicies, permissions=[f"okta:{POLICIES}"])
def password_policies(scope: Scope) -> OktaPasswordPolicies:
    """ACTIVE password policies with length, complexity and history settings."""
    result = []
    for item in _policies(scope, "PASSWORD"):
        password = (item.get("settings") or {}).get("password") or {}
        complexity = password.get("complexity") or {}
        common = ((complexity.get("dictionary") or {}).get("common") or {}).get("exclude")
        result.append(
            OktaPasswordPolicy(
                id=item["id"],
                name=item.get("name") or item["id"],
                priority=item.get("priority", 0),
                min_length=complexity.get("minLength") or 0,
                classes_required=tuple(
                    c for k, c in _CLASSES.items() if (complexity.get(k) or 0) > 0
                ),
                common_passwords_excluded=common is True,
                history_count=(password.get("age") or {}).get("historyCount") or 0,
            )
        )
    return OktaPasswordPolicies(
        min_length=scope.settings.password_min_length,
        history_count=scope.settings.password_history,
        policies=tuple(result),
    )


@collects(OktaMfaPolicies, permissions=[f"okta:{POLICIES}"])
def mfa_policies(scope: Scope) -> OktaMfaPolicies:
    """ACTIVE global session (``OKTA_SIGN_ON``) and authentication (``ACCESS_POLICY``) policies
    with their ACTIVE rules, and the apps mapped to each authentication policy
    (``/policies/{id}/mappings``). The Everyone group is the one the default sign-on policy
    (which Okta keeps assigned to Everyone) includes."""
    sign_on = _policies(scope, "OKTA_SIGN_ON")
    everyone = {g for p in sign_on if p.get("system") for g in _groups(p)}
    result = []
    for item in [*sign_on, *_policies(scope, "ACCESS_POLICY")]:
        rules = scope.api.list(
            f"/api/v1/policies/{item['id']}/rules", paging=PAGING, requires=POLICIES
        )
        active = sorted(
            (r for r in rules if r.get("status") == "ACTIVE"), key=lambda r: r.get("priority", 0)
        )
        result.append(
            OktaMfaPolicy(
                id=item["id"],
                name=item.get("name") or item["id"],
                type=item["type"],
                everyone=item["type"] == "ACCESS_POLICY"
                or bool(item.get("system"))
                or bool(everyone & _groups(item)),
                rules=tuple(_rule(r) for r in active),
                apps=_apps(scope, item["id"]) if item["type"] == "ACCESS_POLICY" else (),
            )
        )
    return OktaMfaPolicies(org=scope.target.account, policies=tuple(result))


def _apps(scope: Scope, policy_id: str) -> tuple[str, ...]:
    """Ids of the apps mapped to an authentication policy, from each mapping's
    ``_links.application.href`` (``.../api/v1/apps/{appId}``)."""
    mappings = scope.api.list(
        f"/api/v1/policies/{policy_id}/mappings", paging=PAGING, requires=POLICIES
    )
    apps = []
    for mapping in mappings:
        href = ((mapping.get("_links") or {}).get("application") or {}).get("href")
        if isinstance(href, str) and "/api/v1/apps/" in href:
            apps.append(href.rstrip("/").rsplit("/", 1)[1])
    return tuple(sorted(apps))


def _groups(policy: dict[str, Any]) -> set[str]:
    people = (policy.get("conditions") or {}).get("people") or {}
    return set((people.get("groups") or {}).get("include") or ())


def _rule(item: dict[str, Any]) -> OktaMfaRule:
    actions = item.get("actions") or {}
    signon = actions.get("signon")
    if signon is not None:  # global session policy rule
        allows = signon.get("access") != "DENY"
        mfa = signon.get("requireFactor") is True
    else:  # authentication policy rule
        app = actions.get("appSignOn") or {}
        allows = app.get("access") != "DENY"
        mfa = (app.get("verificationMethod") or {}).get("factorMode") == "2FA"
    return OktaMfaRule(
        name=item.get("name") or item.get("id", ""),
        priority=item.get("priority", 0),
        allows=allows,
        requires_mfa=mfa,
        narrowed=_narrowed(item.get("conditions") or {}),
    )


def _narrowed(conditions: dict[str, Any]) -> tuple[str, ...]:
    """Conditions that make a rule apply only to some users, places or devices."""
    found = []
    people = conditions.get("people") or {}
    for kind in ("users", "groups"):
        lists = people.get(kind) or {}
        if lists.get("include") or lists.get("exclude"):
            found.append(kind)
    for key, (field, anything) in _ANY.items():
        value = (conditions.get(key) or {}).get(field)
        if value is not None and value != anything:
            found.append(key)
    user_type = conditions.get("userType") or {}
    if user_type.get("include") or user_type.get("exclude"):
        found.append("userType")
    found += [key for key in ("device", "platform", "risk", "elCondition") if conditions.get(key)]
    return tuple(found)
