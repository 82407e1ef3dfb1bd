"""What an Azure, Entra or Intune collector receives for one subscription or tenant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeVar

from checks.api import Snapshot
from collector.azure.client import ApiClient
from collector.collect import Target
from collector.settings import AzureSettings

if TYPE_CHECKING:
    from collector.snapshots import SnapshotCache

S = TypeVar("S", bound=Snapshot)


def utcnow() -> datetime:
    return datetime.now(UTC)


class AzureScope:
    """One subscription (provider ``azure``) or tenant (``entra``, ``intune``).

    ``api`` is the tenant's ARM or Graph client; ``settings`` the ``azure:`` section, for
    snapshots that record the configured policy; ``now()`` the collection time, recorded in
    snapshots whose verdicts depend on age (checks never read a clock).
    """

    def __init__(
        self,
        target: Target,
        api: ApiClient,
        cache: SnapshotCache,
        *,
        settings: AzureSettings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.target = target
        self.api = api
        self.settings = settings
        self._cache = cache
        self._clock = clock

    @property
    def subscription(self) -> str:
        """The ARM path of the target subscription, ``/subscriptions/<id>``."""
        return f"/subscriptions/{self.target.account}"

    def now(self) -> datetime:
        return self._clock()

    def get(self, kind: type[S]) -> S:
        """Another snapshot for this target (memoised for the run)."""
        return self._cache.get(kind, self.target)
