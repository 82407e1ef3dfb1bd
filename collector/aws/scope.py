"""AWS scope: the session, clients and snapshot access a collector gets for one target."""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.config import Config

from checks.api import Snapshot
from collector.collect import Target
from collector.settings import AwsSettings

if TYPE_CHECKING:
    from collector.snapshots import SnapshotCache

S = TypeVar("S", bound=Snapshot)

#: Read timeouts bound a hung endpoint; "adaptive" retries back off on throttling.
CLIENT_CONFIG = Config(
    connect_timeout=10,
    read_timeout=30,
    retries={"mode": "adaptive", "max_attempts": 10},
    user_agent_extra="annexa",
)
_ACCOUNT_PREFIXED = re.compile(r"^\d{12}\.(?=localhost$|\d+\.\d+\.\d+\.\d+$|\[)")


def _local_endpoint_without_account_prefix(request: Any, **_: Any) -> None:
    """S3 Control puts ``{AccountId}.`` in front of the host. A local endpoint (an IP address or
    localhost, as with ``AWS_ENDPOINT_URL`` pointing at a test server) cannot resolve that name,
    so the prefix is dropped there; real AWS hosts are never IP literals and are untouched."""
    parts = urlsplit(request.url)
    host = parts.hostname or ""
    if _ACCOUNT_PREFIXED.match(host):
        request.url = urlunsplit(parts._replace(netloc=parts.netloc.split(".", 1)[1]))


class AwsScope:
    """One AWS account (and region, for regional snapshots) as a collector sees it.

    ``client(service)`` returns a boto3 client bound to the target's region, or to the
    account's home region for account-wide snapshots. Clients are cached per scope.
    ``settings`` is the ``aws:`` section of the config, for collectors whose snapshot records
    a configured policy (e.g. the tags every resource must carry).
    """

    def __init__(
        self,
        target: Target,
        session: boto3.Session,
        cache: SnapshotCache,
        *,
        home_region: str,
        settings: AwsSettings | None = None,
        config: Config = CLIENT_CONFIG,
    ) -> None:
        self.target = target
        self.settings = settings or AwsSettings()
        self.session = session
        self.region = target.region or home_region
        self._cache = cache
        self._config = config
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def account_id(self) -> str:
        return self.target.account

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` in this scope's region (created once)."""
        with self._lock:  # boto3 client creation is not thread-safe; using a client is
            if service not in self._clients:
                client = self.session.client(service, region_name=self.region, config=self._config)
                if service == "s3control":
                    client.meta.events.register(
                        "before-sign.s3-control", _local_endpoint_without_account_prefix
                    )
                self._clients[service] = client
            return self._clients[service]

    def get(self, kind: type[S]) -> S:
        """Another snapshot for this target (memoised for the run)."""
        return self._cache.get(kind, self.target)

    def arn(self, service: str, resource: str, *, region: str | None = None) -> str:
        """Build an ARN in this account (``region`` empty for global services such as IAM)."""
        return f"arn:aws:{service}:{region or ''}:{self.account_id}:{resource}"
