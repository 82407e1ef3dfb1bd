"""App registration checks: no expired-but-present or long-lived client secrets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from checks.api import Finding, check
from checks.entra.models import AppRegistrations


@check(
    id="entra.apps.client_secrets_valid",
    title="App registrations have no expired or long-lived client secrets",
    severity="medium",
    remediation="Delete expired secrets; replace secrets valid for longer than the configured "
    "lifetime (azure.entra.secret_max_lifetime_days, default 366) with shorter ones, or "
    "better with certificates or federated credentials.",
)
def client_secrets_valid(apps: AppRegistrations) -> Iterator[Finding]:
    """One finding per app registration that has client secrets. It fails when a secret has
    expired but is still present (unreviewed credential lifecycle), never expires, or is
    valid for longer than the maximum lifetime (366 days by default, so a one-year secret
    spanning a leap day passes)."""
    longest = timedelta(days=apps.max_lifetime_days)
    for app in apps.apps:
        if not app.secrets:
            continue
        problems = []
        for secret in app.secrets:
            if secret.end is None:
                problems.append(f"secret {secret.key_id} never expires")
            elif secret.end <= apps.collected_at:
                problems.append(f"secret {secret.key_id} expired {secret.end.date()}")
            elif secret.start is not None and secret.end - secret.start > longest:
                days = (secret.end - secret.start).days
                problems.append(f"secret {secret.key_id} valid for {days} days")
        yield Finding(
            resource=f"{app.name} ({app.app_id})",
            passed=not problems,
            message="; ".join(problems) or f"{len(app.secrets)} secret(s), all within policy",
        )
