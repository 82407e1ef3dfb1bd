"""What an Azure, Entra or Intune collector receives for one subscription or tenant."""

from __future__ import annotations

from collector.azure.client import ApiClient
from collector.http import ApiScope
from collector.settings import AzureSettings


class AzureScope(ApiScope[AzureSettings]):
    """One subscription (provider ``azure``) or tenant (``entra``, ``intune``).

    ``api`` is the tenant's ARM or Graph client; ``settings`` the ``azure:`` section, for
    snapshots that record the configured policy; ``now()`` the collection time, recorded in
    snapshots whose verdicts depend on age (checks never read a clock).
    """

    api: ApiClient  # type: ignore[assignment]

    @property
    def subscription(self) -> str:
        """The ARM path of the target subscription, ``/subscriptions/<id>``."""
        return f"/subscriptions/{self.target.account}"
