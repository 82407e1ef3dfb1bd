"""App Service checks: apps redirect to HTTPS and refuse TLS below 1.2."""

from __future__ import annotations

from collections.abc import Iterator

from checks.api import Finding, check
from checks.azure.models import WebApps
from checks.azure.storage import tls_at_least_1_2


@check(
    id="azure.appservice.https_only",
    title="App Service apps are HTTPS only",
    severity="high",
    remediation="Turn on 'HTTPS Only' (az webapp update --https-only true).",
)
def https_only(web: WebApps) -> Iterator[Finding]:
    for app in web.apps:
        yield Finding(
            resource=app.id,
            passed=app.https_only,
            message="HTTPS only" if app.https_only else "serves plain HTTP",
        )


@check(
    id="azure.appservice.minimum_tls_1_2",
    title="App Service apps require TLS 1.2 or later",
    severity="medium",
    remediation="Set the minimum inbound TLS version to 1.2 "
    "(az webapp config set --min-tls-version 1.2).",
)
def minimum_tls_1_2(web: WebApps) -> Iterator[Finding]:
    for app in web.apps:
        yield Finding(
            resource=app.id,
            passed=tls_at_least_1_2(app.min_tls_version),
            message=f"minimum TLS version {app.min_tls_version or 'not set'}",
        )
