"""Load balancer checks: ALB and NLB listeners use TLS 1.2 or later, or only redirect to
HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot

TLS_PROTOCOLS = frozenset({"HTTPS", "TLS"})
#: Protocol versions a security policy may allow; TLS 1.0 and 1.1 are deprecated (RFC 8996).
CURRENT_TLS = frozenset({"TLSv1.2", "TLSv1.3"})


class ListenerAction(SnapshotPart):
    type: str  # forward, redirect, fixed-response, authenticate-oidc, ...
    redirect_protocol: str | None = None  # HTTPS, HTTP or "#{protocol}" (keep the request's)


class Listener(SnapshotPart):
    arn: str
    load_balancer: str  # its name
    protocol: str  # HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP
    port: int
    actions: tuple[ListenerAction, ...]  # every rule's actions (HTTP listeners only)
    ssl_policy: str | None = None  # HTTPS / TLS listeners: the security policy's name
    tls_versions: tuple[str, ...] = ()  # the protocol versions that policy allows

    @property
    def redirects_only_to_https(self) -> bool:
        return bool(self.actions) and all(
            a.type == "redirect" and a.redirect_protocol == "HTTPS" for a in self.actions
        )


class LoadBalancerListeners(_AwsSnapshot):
    """Every listener of every application and network load balancer in one region."""

    resource_noun: ClassVar[str] = "listeners"

    region: str
    listeners: tuple[Listener, ...]


@check(
    id="aws.elb.listeners_tls",
    title="Load balancer listeners use TLS 1.2 or later",
    severity="high",
    interval="24h",
    version=2,
    remediation="Serve HTTPS (ALB) or TLS (NLB) with an ACM certificate and a security policy "
    "that allows only TLS 1.2 and 1.3 (e.g. ELBSecurityPolicy-TLS13-1-2-2021-06); keep plain "
    "HTTP only as a listener whose every rule redirects to HTTPS.",
)
def listeners_tls(snapshot: LoadBalancerListeners) -> Iterator[Finding]:
    """A TLS listener passes when its security policy allows no version older than TLS 1.2;
    HTTP passes only when every rule, the default included, redirects to HTTPS."""
    for listener in snapshot.listeners:
        where = f"{listener.load_balancer} {listener.protocol}:{listener.port}"
        if listener.protocol in TLS_PROTOCOLS:
            old = sorted(set(listener.tls_versions) - CURRENT_TLS)
            allowed = ", ".join(listener.tls_versions) or "no protocol listed"
            policy = f"policy {listener.ssl_policy} allows {allowed}"
            passed = bool(listener.tls_versions) and not old
            message = f"{where} terminates TLS; {policy}"
        elif listener.protocol == "HTTP" and listener.redirects_only_to_https:
            passed, message = True, f"{where} only redirects to HTTPS"
        elif listener.protocol == "HTTP":
            passed, message = False, f"{where} serves plain HTTP"
        else:
            passed, message = False, f"{where} carries traffic without TLS"
        yield Finding(resource=listener.arn, passed=passed, message=message)
