"""AWS scope: the session, clients and snapshot access a collector gets for one target."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config

from checks.api import Snapshot
from collector.collect import Target

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


class AwsScope:
    """One AWS account (and region, for regional snapshots) as a collector sees it.

    ``client(service)`` returns a boto3 client bound to the target's region, or to the
    account's home region for account-wide snapshots. Clients are cached per scope.
    """

    def __init__(
        self,
        target: Target,
        session: boto3.Session,
        cache: SnapshotCache,
        *,
        home_region: str,
        config: Config = CLIENT_CONFIG,
    ) -> None:
        self.target = target
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
                self._clients[service] = self.session.client(
                    service, region_name=self.region, config=self._config
                )
            return self._clients[service]

    def get(self, kind: type[S]) -> S:
        """Another snapshot for this target (memoised for the run)."""
        return self._cache.get(kind, self.target)

    def arn(self, service: str, resource: str, *, region: str | None = None) -> str:
        """Build an ARN in this account (``region`` empty for global services such as IAM)."""
        return f"arn:aws:{service}:{region or ''}:{self.account_id}:{resource}"
