"""AWS scope: the session, clients and snapshot access a collector gets for one target."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from checks.api import Snapshot
from collector.aws.permissions import iam_action
from collector.causes import DENIED_CODES
from collector.collect import Target
from collector.settings import AwsSettings

if TYPE_CHECKING:  # boto3 is imported when an account is resolved, not by the registry
    import boto3
    from botocore.config import Config

    from collector.snapshots import SnapshotCache

S = TypeVar("S", bound=Snapshot)

_ACCOUNT_PREFIXED = re.compile(r"^\d{12}\.(?=localhost$|\d+\.\d+\.\d+\.\d+$|\[)")


def client_config(max_attempts: int = 10) -> Config:
    """Timeouts bound a hung endpoint; ``max_attempts`` tries per call (the first included),
    with "adaptive" backoff and rate limiting on throttling (see :mod:`collector.aws.retries`
    for server errors and transport failures)."""
    from botocore.config import Config

    return Config(
        connect_timeout=10,
        read_timeout=30,
        retries={"mode": "adaptive", "total_max_attempts": max_attempts},
        user_agent_extra="annexa",
    )


def _local_endpoint_without_account_prefix(request: Any, **_: Any) -> None:
    """S3 Control puts ``{AccountId}.`` in front of the host. A local endpoint (an IP address or
    localhost, as with ``AWS_ENDPOINT_URL`` pointing at a test server) cannot resolve that name,
    so the prefix is dropped there; real AWS hosts are never IP literals and are untouched."""
    parts = urlsplit(request.url)
    host = parts.hostname or ""
    if _ACCOUNT_PREFIXED.match(host):
        request.url = urlunsplit(parts._replace(netloc=parts.netloc.split(".", 1)[1]))


def _name_denied_action(http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
    """Stamp the IAM action behind a denied call on the error (``Error.IamAction``), so the
    recorded cause names what to grant even when the service's message does not."""
    error = parsed.get("Error") if isinstance(parsed, dict) else None
    if http_response.status_code >= 400 and error and error.get("Code") in DENIED_CODES:
        error["IamAction"] = iam_action(model.service_model.service_name, model.name)


class Clients:
    """The boto3 clients of one account's session, one per (service, region), each created
    on first use and shared by every scope of the account. Creating clients is not
    thread-safe; using one is. ``transient_seconds`` bounds each call's retries of server
    errors and transport failures (:mod:`collector.aws.retries`)."""

    def __init__(
        self,
        session: boto3.Session,
        config: Config | None = None,
        *,
        lock: threading.Lock | None = None,
        transient_seconds: float | None = None,
    ) -> None:
        from collector.aws import lean_models, retries

        lean_models.install(session)
        self.session = session
        self.config = config or client_config()
        self.transient_seconds = (
            retries.TRANSIENT_SECONDS if transient_seconds is None else transient_seconds
        )
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = lock or threading.Lock()  # shared by all users of ``session``

    def get(self, service: str, region: str) -> Any:
        from collector.aws import retries

        with self._lock:
            key = (service, region)
            if key not in self._clients:
                client = self.session.client(service, region_name=region, config=self.config)
                retries.install(client, self.transient_seconds)
                client.meta.events.register("after-call", _name_denied_action)
                if service == "s3control":
                    client.meta.events.register(
                        "before-sign.s3-control", _local_endpoint_without_account_prefix
                    )
                self._clients[key] = client
            return self._clients[key]


class AwsScope:
    """One AWS account (and region, for regional snapshots) as a collector sees it.

    ``client(service)`` returns a boto3 client bound to the target's region, or to the
    account's home region for account-wide snapshots. ``settings`` is the ``aws:`` section of
    the config, for collectors whose snapshot records a configured policy (e.g. the tags every
    resource must carry). ``clients`` shares clients between the scopes of one account.
    """

    def __init__(
        self,
        target: Target,
        session: boto3.Session,
        cache: SnapshotCache,
        *,
        home_region: str,
        settings: AwsSettings | None = None,
        config: Config | None = None,
        clients: Clients | None = None,
    ) -> None:
        self.target = target
        self.settings = settings or AwsSettings()
        self.session = session
        self.region = target.region or home_region
        self._cache = cache
        self._clients = clients or Clients(
            session, config, transient_seconds=self.settings.transient_retry_seconds
        )

    @property
    def account_id(self) -> str:
        return self.target.account

    def client(self, service: str, *, region: str | None = None) -> Any:
        """A boto3 client for ``service`` in this scope's region, or in ``region`` when an
        account-wide collector must read a resource homed elsewhere (created once per account)."""
        return self._clients.get(service, region or self.region)

    def get(self, kind: type[S]) -> S:
        """Another snapshot for this target (memoised for the run)."""
        return self._cache.get(kind, self.target)

    def parts(self, kind: type[Snapshot]) -> frozenset[str]:
        """The optional parts of ``kind`` this run's checks need (``collects(parts=...)``)."""
        return self._cache.parts(kind)

    def arn(self, service: str, resource: str, *, region: str | None = None) -> str:
        """Build an ARN in this account (``region`` empty for global services such as IAM)."""
        return f"arn:aws:{service}:{region or ''}:{self.account_id}:{resource}"


class AccountScopes:
    """The scope factory of one resolved account (``Account.make_scope``): every scope it
    makes shares the account's session and clients."""

    def __init__(
        self,
        session: boto3.Session,
        *,
        home_region: str,
        settings: AwsSettings | None = None,
        config: Config | None = None,
        lock: threading.Lock | None = None,
    ) -> None:
        self.session = session
        self.home_region = home_region
        self.settings = settings
        self.clients = Clients(
            session,
            config,
            lock=lock,
            transient_seconds=settings.transient_retry_seconds if settings else None,
        )

    def __call__(self, target: Target, cache: SnapshotCache) -> AwsScope:
        return AwsScope(
            target,
            self.session,
            cache,
            home_region=self.home_region,
            settings=self.settings,
            clients=self.clients,
        )
