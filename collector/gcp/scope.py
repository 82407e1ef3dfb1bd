"""What a GCP collector receives for one scope: paged Cloud Asset Inventory sweeps.

Every sweep is one paged call (``pageToken``/``nextPageToken``, followed by the client's
pager) whose answers are handed over as wire-format JSON dicts (camelCase, as the REST API
writes them). A denied call is stamped with the permission it needed, so the recorded cause
names what to grant even when Google's message does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from checks.api import Snapshot
from collector.clock import utcnow
from collector.collect import Target
from collector.settings import GcpSettings

if TYPE_CHECKING:  # the Google SDK is imported when a scope is made, not by the registry
    from google.api_core.retry import Retry
    from google.cloud.asset_v1 import AssetServiceClient
    from google.cloud.securitycenter_v2 import SecurityCenterClient

    from collector.snapshots import SnapshotCache

S = TypeVar("S", bound=Snapshot)

LIST_PAGE_SIZE = 1000  # ListAssets maximum
SEARCH_PAGE_SIZE = 500  # SearchAll* maximum
LIST_RESOURCE = "cloudasset.assets.listResource"
LIST_IAM_POLICY = "cloudasset.assets.listIamPolicy"
LIST_ORG_POLICY = "cloudasset.assets.listOrgPolicy"
_LIST_PERMISSION = {
    "RESOURCE": LIST_RESOURCE,
    "IAM_POLICY": LIST_IAM_POLICY,
    "ORG_POLICY": LIST_ORG_POLICY,
}
SEARCH_RESOURCES = "cloudasset.assets.searchAllResources"
SEARCH_IAM_POLICIES = "cloudasset.assets.searchAllIamPolicies"
LIST_FINDINGS = "securitycenter.findings.list"
FINDINGS_PAGE_SIZE = 1000  # ListFindings maximum


def default_retry(initial: float = 1.0, deadline: float = 120.0) -> Retry:
    """Exponential backoff on quota (429) and transient server errors, giving up after
    ``deadline`` s."""
    from google.api_core import exceptions
    from google.api_core.retry import Retry, if_exception_type

    retryable = (
        exceptions.TooManyRequests,
        exceptions.ServiceUnavailable,
        exceptions.InternalServerError,
        exceptions.GatewayTimeout,
    )
    return Retry(
        predicate=if_exception_type(*retryable), initial=initial, maximum=30.0, timeout=deadline
    )


@contextmanager
def naming(permission: str) -> Iterator[None]:
    """Stamp ``permission`` on a 403 raised inside (``required_permission``)."""
    from google.api_core import exceptions

    try:
        yield
    except exceptions.Forbidden as exc:
        exc.required_permission = permission  # type: ignore[attr-defined]
        raise


class GcpScope:
    """One configured scope (``organizations/1``, ``folders/2``, ``projects/p``).

    ``settings`` is the ``gcp:`` section (for snapshots that record the configured policy);
    ``now()`` is the collection time for snapshots whose verdicts depend on age.
    """

    def __init__(
        self,
        target: Target,
        client: AssetServiceClient,
        cache: SnapshotCache,
        *,
        settings: GcpSettings,
        clock: Callable[[], datetime] = utcnow,
        retry: Retry | None = None,
        security_center: Callable[[], SecurityCenterClient] | None = None,
    ) -> None:
        self.target = target
        self.client = client
        self._security_center = security_center
        self.settings = settings
        self._cache = cache
        self._clock = clock
        self._retry = retry or default_retry()

    @property
    def name(self) -> str:
        return self.target.account

    def now(self) -> datetime:
        return self._clock()

    def get(self, kind: type[S]) -> S:
        """Another snapshot for this target (memoised for the run)."""
        return self._cache.get(kind, self.target)

    def list_assets(self, content: str, asset_types: Iterable[str]) -> Iterator[dict[str, Any]]:
        """``ListAssets`` under the scope, ``content`` ``RESOURCE``, ``IAM_POLICY`` or
        ``ORG_POLICY``."""
        from google.cloud.asset_v1 import ContentType

        request = {
            "parent": self.name,
            "content_type": ContentType[content],
            "asset_types": list(asset_types),
            "page_size": LIST_PAGE_SIZE,
        }
        yield from self._sweep(self.client.list_assets, request, _LIST_PERMISSION[content])

    def search_resources(self, asset_types: Iterable[str]) -> Iterator[dict[str, Any]]:
        """``SearchAllResources`` in the scope (standard fields only)."""
        request = {
            "scope": self.name,
            "asset_types": list(asset_types),
            "page_size": SEARCH_PAGE_SIZE,
        }
        yield from self._sweep(self.client.search_all_resources, request, SEARCH_RESOURCES)

    def search_iam_policies(self) -> Iterator[dict[str, Any]]:
        """``SearchAllIamPolicies`` in the scope: every policy, one result per resource."""
        request = {"scope": self.name, "page_size": SEARCH_PAGE_SIZE}
        yield from self._sweep(self.client.search_all_iam_policies, request, SEARCH_IAM_POLICIES)

    def list_findings(self, filter: str) -> Iterator[dict[str, Any]]:
        """Security Command Center ``ListFindings`` over every source in the scope (v2,
        ``<scope>/sources/-``); each item is a ``ListFindingsResult`` (finding and resource)."""
        if self._security_center is None:
            raise ValueError("no Security Command Center client for this scope")
        request = {
            "parent": f"{self.name}/sources/-",
            "filter": filter,
            "page_size": FINDINGS_PAGE_SIZE,
        }
        yield from self._sweep(self._security_center().list_findings, request, LIST_FINDINGS)

    def _sweep(
        self, method: Callable[..., Iterable[Any]], request: dict[str, Any], permission: str
    ) -> Iterator[dict[str, Any]]:
        from google.protobuf.json_format import MessageToDict

        with naming(permission):
            pager = method(request=request, retry=self._retry, timeout=self.settings.timeout)
            for item in pager:  # fetches the next page on demand
                yield MessageToDict(type(item).pb(item))
