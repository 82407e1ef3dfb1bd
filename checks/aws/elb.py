"""Load balancer checks: ALB and NLB listeners use TLS, or only redirect to HTTPS."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot

TLS_PROTOCOLS = frozenset({"HTTPS", "TLS"})


class ListenerAction(SnapshotPart):
    type: str  # forward, redirect, fixed-response, authenticate-oidc, ...
    redirect_protocol: str | None = None  # HTTPS, HTTP or "#{protocol}" (keep the request's)


class Listener(SnapshotPart):
    arn: str
    load_balancer: str  # its name
    protocol: str  # HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP
    port: int
    actions: tuple[ListenerAction, ...]  # every rule's actions (HTTP listeners only)

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
    title="Load balancer listeners use TLS",
    severity="high",
    interval="24h",
    remediation="Serve HTTPS (ALB) or TLS (NLB) with an ACM certificate; keep plain HTTP only "
    "as a listener whose every rule redirects to HTTPS.",
)
def listeners_tls(snapshot: LoadBalancerListeners) -> Iterator[Finding]:
    """HTTP passes only when every rule, the default included, redirects to HTTPS."""
    for listener in snapshot.listeners:
        where = f"{listener.load_balancer} {listener.protocol}:{listener.port}"
        if listener.protocol in TLS_PROTOCOLS:
            passed, message = True, f"{where} terminates TLS"
        elif listener.protocol == "HTTP" and listener.redirects_only_to_https:
            passed, message = True, f"{where} only redirects to HTTPS"
        elif listener.protocol == "HTTP":
            passed, message = False, f"{where} serves plain HTTP"
        else:
            passed, message = False, f"{where} carries traffic without TLS"
        yield Finding(resource=listener.arn, passed=passed, message=message)
